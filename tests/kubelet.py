"""The kubelet's own text rules, as oracles the tests and the acceptance harness share: the
expansion of `$(NAME)` in command, args and env values
(kubernetes/kubernetes third_party/forked/golang/expansion/expand.go), and the env-file parser
behind `valueFrom.fileKeyRef` (pkg/kubelet/util/env/env_util.go, ParseEnv, and its test table
env_util_test.go).

A helper module (imported by bare name, like support): test modules never import each other."""

from __future__ import annotations

from collections.abc import Mapping


def kubelet_expand(text: str, env: Mapping[str, str]) -> str:
    """The kubelet's expansion of command and args: `$(NAME)` becomes NAME's value when the
    container defines NAME (else stays as written), `$$` becomes `$`, any other `$` stays."""
    out = []
    i = 0
    while i < len(text):
        if text[i] == "$" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt == "$":
                out.append("$")
                i += 2
                continue
            if nxt == "(":
                close = text.find(")", i + 2)
                if close != -1:
                    name = text[i + 2:close]
                    out.append(env.get(name, f"$({name})"))
                    i = close + 1
                    continue
                out.append("$(")
                i += 2
                continue
            out.append("$" + nxt)
            i += 2
            continue
        out.append(text[i])
        i += 1
    return "".join(out)


class EnvFileError(ValueError):
    pass


def kubelet_parse_env(text: str, key: str) -> str:
    """The kubelet's env-file parser (ParseEnv in pkg/kubelet/util/env/env_util.go): lines as Go's
    bufio.Scanner splits them (a CR before LF or at EOF is dropped), leading blanks and blank or
    '#' lines skipped, `NAME='value'` only, the value running to the next single quote across
    lines, then only blanks or a '#' comment. Returns "" for a key it does not find."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    lines = [ln[:-1] if ln.endswith("\r") else ln for ln in lines]
    i = 0
    while i < len(lines):
        number = i + 1
        line = lines[i].lstrip(" \t")
        i += 1
        if not line or line.startswith("#"):
            continue
        eq = line.find("=")
        if eq == -1:
            raise EnvFileError(f"line {number}: missing '='")
        name_part = line[:eq]
        name = name_part.rstrip(" \t")
        if not name:
            raise EnvFileError(f"line {number}: empty variable name")
        if name != name_part:
            raise EnvFileError(f"line {number}: whitespace before '=' is not allowed")
        value_part = line[eq + 1:]
        if value_part != value_part.lstrip(" \t"):
            if name == key:
                return ""
            continue
        if not value_part.startswith("'"):
            raise EnvFileError(f"line {number}: value must be enclosed in single quotes")
        rest = value_part[1:]
        value = []
        while True:
            close = rest.find("'")
            if close != -1:
                value.append(rest[:close])
                after = rest[close + 1:].lstrip(" \t")
                if after and not after.startswith("#"):
                    raise EnvFileError(f"line {number}: unexpected content after closing quote")
                if name == key:
                    return "".join(value)
                break
            value.append(rest + "\n")
            if i >= len(lines):
                raise EnvFileError(f"line {number}: unclosed single quote")
            rest = lines[i]
            i += 1
    return ""
