"""The walkthroughs run as a reader runs them: every `sh` block of the README's walkthrough and of
each flow's page, in the order docs/README.md gives, one shell after the other, against
`activation dev` (what `make dev` runs) on free ports. A command that cannot reach the service,
a server error or a step whose answer the next one cannot use stops the run."""

from __future__ import annotations

import asyncio
import re
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.support.dev_stack import AUTH
from tests.support.dev_stack import DevStack

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]
ROOT = Path(__file__).parent.parent
# The reader's order (docs/README.md): each walkthrough continues the one before.
PAGES = [
    "README.md",
    "docs/flows/license-activation.md",
    "docs/flows/product-registration.md",
    "docs/flows/local-accounts.md",
    "docs/flows/license-lifecycle.md",
    "docs/flows/credits.md",
    "docs/flows/primary-change.md",
    "docs/flows/account-lookup.md",
]
# Every call goes through this: no answer or a 5xx stops the run (a 4xx is what some steps show).
PRELUDE = r"""
set -euo pipefail
curl() {
  local answer status
  answer=$(command curl -sS --max-time 30 -w '\n%{http_code}' "$@") || {
    echo "no answer: curl $*" >&2; return 1; }
  status=${answer##*$'\n'}
  printf '%s\n' "${answer%$'\n'*}"
  if [ "$status" -ge 500 ]; then echo "HTTP $status: curl $*" >&2; return 1; fi
}
"""


def walkthrough(page: Path) -> str:
    """The `sh` blocks of the page's walkthrough section(s)."""
    text = page.read_text()
    sections = re.findall(r"^## Walkthrough.*?(?=^## |\Z)", text, re.M | re.S)
    blocks = [
        block for section in sections for block in re.findall(r"```sh\n(.*?)```", section, re.S)
    ]
    assert blocks, f"{page} has no walkthrough"
    return "\n".join(blocks)


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[DevStack]:
    running = DevStack(tmp_path)
    process = await running.start()
    yield running
    assert await running.stop(process) == 0, running.log.read_text()[-3000:]


async def test_the_walkthroughs_run_in_the_order_a_reader_follows_them(stack: DevStack) -> None:
    script = PRELUDE + "\n".join(walkthrough(ROOT / page) for page in PAGES)
    script = script.replace("localhost:8000", f"127.0.0.1:{stack.api_port}")
    script = script.replace("127.0.0.1:8000", f"127.0.0.1:{stack.api_port}")
    script = script.replace("data/operator-key", str(stack.data / "operator-key"))
    done = await asyncio.to_thread(
        subprocess.run,
        ["bash", "-c", script],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=stack.data,
    )
    assert done.returncode == 0, (done.stdout[-3000:], done.stderr[-3000:])
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    # Where the walkthroughs leave the service: what each step claims, as the API reads it.
    async with httpx.AsyncClient(base_url=stack.base, headers=AUTH) as http:
        changes = await http.get(
            "/v1/email-verifications/"
            + re.findall(r'"(email-verification-[a-z2-7]{24})"', done.stdout)[0]
        )
        assert changes.json()["status"] == "verified"
    for claim in (
        '"status":"verified"',  # the README's verification
        '"registration_status":"registered"',
        '"status":"accepted"',  # the ownership transfer
        '"code":"primary_account_immutable"',
        '"replaces":{"license_id"',  # the paid order converted the trial
        '"license_expires_on":"2031-12-31"',  # the renewal extended Acme's license
        '"enough":true',
        '"status":"objected"',
        "A*** C***",  # the account lookup's answer, masked
    ):
        assert claim in done.stdout, claim
