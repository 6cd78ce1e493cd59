"""Tag-only images resolved through a real registry on loopback (scaffold/images.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from registry import Registry

from scaffold import images
from scaffold.cli import main


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    reg = Registry(tmp_path_factory.mktemp("registry"))
    try:
        yield reg
    finally:
        reg.stop()


def _values(tmp_path: Path, **extra: object) -> Path:
    data = {"name": "demo", "namespace": "mcp", "ingress": {"namespace": "ingress-nginx"}, **extra}
    path = tmp_path / "values.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_tag_only_image_is_pinned_into_values_yaml(registry: Registry, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    digest = registry.push("mcp/demo", "1.0.0", ["/app/server"], ["--stdio"])
    image = f"{registry.addr}/mcp/demo:1.0.0"
    out = tmp_path / "base"
    rc = main(["new", "--no-input", "--values", str(_values(tmp_path, image=image)),
               "--output", str(out)])
    assert rc == 0
    written = yaml.safe_load((out / "values.yaml").read_text())
    assert written["image"] == f"{image}@{digest}"


def test_stdio_command_comes_from_the_image(registry: Registry, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    registry.push("mcp/stdio", "2.0.0", ["/app/server", "--stdio"], ["--verbose"])
    raw = {"image": f"{registry.addr}/mcp/stdio:2.0.0", "transport": "stdio"}
    out, _warnings = images.resolve_values(raw, "values.yaml")
    assert out["command"] == ["/app/server", "--stdio"]
    assert out["args"] == ["--verbose"]


def test_missing_tag_is_exit_2_naming_it(registry: Registry, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    image = f"{registry.addr}/mcp/nothing:9.9"
    rc = main(["new", "--no-input", "--values", str(_values(tmp_path, image=image)),
               "--output", str(tmp_path / "base")])
    assert rc == 2
    assert f"image: {image}: not found in the registry" in capsys.readouterr().err
    assert not (tmp_path / "base").exists()


def test_offline_refuses_a_tag_only_image(registry: Registry, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    registry.push("mcp/demo", "1.0.1", ["/app/server"], [])
    image = f"{registry.addr}/mcp/demo:1.0.1"
    rc = main(["new", "--no-input", "--offline", "--values",
               str(_values(tmp_path, image=image)), "--output", str(tmp_path / "base")])
    assert rc == 2
    assert "must be pinned by digest" in capsys.readouterr().err


def test_plain_http_to_a_non_loopback_host_is_refused() -> None:
    client = images._Client(images.parse("registry.example.com/mcp/demo:1"))
    with pytest.raises(images.ImageError, match="plain HTTP only to a loopback registry"):
        client._open("http://10.0.0.1/token", {})
