"""Each function's Lambda package (`make build`): what `sam build` runs for it, and what its
pinned requirements hold. Only the API verifies JWTs (bearer tokens, Wix event signatures), so
only its package carries PyJWT and cryptography."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tests.infrastructure.template_model import ROOT, sam_template

SRC = ROOT / "src"
JWT_STACK = {"pyjwt", "cryptography", "cffi", "pycparser"}  # PyJWT[crypto] and what it brings
REQUIREMENTS = {
    "ApiFunction": "requirements.txt",
    "WorkerFunction": "requirements-worker.txt",
    "CallbackFunction": "requirements-worker.txt",
}


def pins(name: str) -> dict[str, str]:
    """`package==version` lines of a compiled requirements file."""
    found = re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", (SRC / name).read_text(), re.MULTILINE)
    return {package.lower(): version for package, version in found}


def recipe(function: str) -> str:
    """The commands `sam build` runs for `function` (make -n: printed, not run), in a copy of
    src/ as SAM does."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    done = subprocess.run(
        ["make", "-s", "-n", "-f", str(ROOT / "Makefile"), f"build-{function}"],
        cwd=SRC,
        env={"PATH": "/usr/bin:/bin", "ARTIFACTS_DIR": "/artifacts"},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def test_every_function_is_built_by_its_makefile_target() -> None:
    functions = {
        name: resource
        for name, resource in sam_template()["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }
    assert set(functions) == set(REQUIREMENTS)
    for resource in functions.values():
        assert resource["Metadata"] == {"BuildMethod": "makefile", "ContextPath": "."}
        assert resource["Properties"].get("CodeUri", "src/") == "src/"


@pytest.mark.parametrize(("function", "requirements"), sorted(REQUIREMENTS.items()))
def test_a_package_is_its_pinned_wheels_for_lambda_and_the_relay_code_alone(
    function: str, requirements: str
) -> None:
    commands = recipe(function)
    (install,) = [line for line in commands.splitlines() if " pip install " in line]
    assert f"-r {requirements}" in install
    # Wheels only (nothing compiled on this machine), for Lambda's arm64 / CPython 3.13 runtime,
    # exactly the pinned set.
    for option in (
        "--only-binary :all:",
        "--python-platform aarch64-manylinux_2_34",
        "--python-version 3.13",
        "--no-deps",
        '--target "/artifacts"',
    ):
        assert option in install, option
    assert 'cp -R wix_relay "/artifacts/"' in commands
    assert "devtools" not in commands and "requirements" not in commands.replace(install, "")


def test_the_worker_and_callback_packages_hold_no_pyjwt_or_cryptography() -> None:
    api, worker = pins("requirements.txt"), pins("requirements-worker.txt")
    assert set(api) >= JWT_STACK, "the API verifies JWTs"
    assert not JWT_STACK & set(worker)
    # The same versions everywhere: the worker's file is the API's without the JWT stack.
    assert worker == {package: v for package, v in api.items() if package not in JWT_STACK}
    assert "-c src/requirements.txt" in (SRC / "requirements-worker.txt").read_text()


def test_no_requirements_file_names_a_package_index() -> None:
    for path in SRC.glob("requirements*"):
        text = path.read_text()
        assert "--index-url" not in text and "--extra-index-url" not in text, path
        assert not re.search(r"https?://", text), path


def test_a_package_target_refuses_to_run_outside_sam_build() -> None:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    done = subprocess.run(
        ["make", "-n", "-f", str(ROOT / "Makefile"), "build-WorkerFunction"],
        cwd=SRC,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode != 0 and "ARTIFACTS_DIR is not set" in done.stderr
