"""The Kubernetes manifests under deploy/kubernetes, checked offline against the published
schemas (`kubernetes-validate`, strict: a misspelt field fails) for the Kubernetes version the
deployment targets, and against what the service needs of them. Each overlay is rendered by
`kubectl kustomize` where kubectl is installed; the base's files are checked everywhere."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml

from core.settings import Settings

KUBERNETES = Path(__file__).parent.parent / "deploy" / "kubernetes"
VERSION = "1.32"  # the oldest Kubernetes the manifests are written for
KUBECTL = shutil.which("kubectl")


def documents(text: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


def base() -> list[dict[str, Any]]:
    files = sorted(KUBERNETES.glob("base/*.yaml"))
    return [doc for path in files if path.name != "kustomization.yaml"
            for doc in documents(path.read_text())]  # fmt: skip


def rendered(overlay: str) -> list[dict[str, Any]]:
    assert KUBECTL is not None
    out = subprocess.run([KUBECTL, "kustomize", str(KUBERNETES / "overlays" / overlay)],
                         capture_output=True, text=True, check=True)  # fmt: skip
    return documents(out.stdout)


def test_every_base_manifest_is_valid_for_the_published_schema() -> None:
    manifests = base()
    assert {doc["kind"] for doc in manifests} == {
        "ConfigMap", "Job", "Deployment", "Service", "PodDisruptionBudget",
        "HorizontalPodAutoscaler",
    }  # fmt: skip
    for doc in manifests:
        kubernetes_validate.validate(doc, VERSION, strict=True)


@pytest.mark.skipif(KUBECTL is None, reason="kubectl (with kustomize) is not installed")
@pytest.mark.parametrize("overlay", ["staging", "production"])
def test_each_overlay_renders_to_valid_manifests(overlay: str) -> None:
    manifests = rendered(overlay)
    for doc in manifests:
        kubernetes_validate.validate(doc, VERSION, strict=True)
        assert doc["metadata"].get("namespace"), doc["metadata"]["name"]
    images = {
        container["image"]
        for doc in manifests if doc["kind"] in ("Deployment", "Job")
        for container in doc["spec"]["template"]["spec"]["containers"]
    }  # fmt: skip
    assert len(images) == 1 and ":" in images.pop()  # one pinned image for every process


def test_the_processes_get_what_the_service_needs() -> None:
    """Settings the service knows, secrets by reference, probes on the paths it serves."""
    by_name = {(doc["kind"], doc["metadata"]["name"]): doc for doc in base()}
    config = by_name["ConfigMap", "activation-config"]["data"]
    assert all(key.removeprefix("ACTIVATION_").lower() in Settings.model_fields for key in config)
    api = by_name["Deployment", "activation-api"]["spec"]["template"]["spec"]["containers"][0]
    assert api["livenessProbe"]["httpGet"]["path"] == "/health"
    assert api["readinessProbe"]["httpGet"]["path"] == "/ready"
    for kind, name in (("Deployment", "activation-api"), ("Deployment", "activation-worker"),
                       ("Job", "activation-migrate")):  # fmt: skip
        container = by_name[kind, name]["spec"]["template"]["spec"]["containers"][0]
        sources = {next(iter(ref)): ref for ref in container["envFrom"]}
        assert sources["secretRef"]["secretRef"]["name"] == "activation-secrets"
        assert "resources" in container and container["resources"]["requests"]
    worker = by_name["Deployment", "activation-worker"]["spec"]["template"]["spec"]
    grace = Settings.model_fields["worker_shutdown_grace_seconds"].default
    assert worker["terminationGracePeriodSeconds"] > grace  # activities in flight finish
    scaled = by_name["HorizontalPodAutoscaler", "activation-worker"]["spec"]["scaleTargetRef"]
    assert scaled["name"] == "activation-worker"
    assert ("PodDisruptionBudget", "activation-api") in by_name
