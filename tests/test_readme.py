"""The README's values reference is the schema's, not a copy that drifts."""

from __future__ import annotations

from scaffold import reference

from support import ROOT


def test_values_reference_matches_schema() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    start = readme.index("<!-- values-reference:start -->\n") + len("<!-- values-reference:start -->\n")
    end = readme.index("<!-- values-reference:end -->")
    assert readme[start:end] == reference.table(), "regenerate with: python -m scaffold.reference"


def test_every_schema_key_is_in_the_table() -> None:
    table = reference.table()
    for key in ("`name`", "`secrets.aws.roleArn`", "`downstream[].ports`", "`apiServer.cidrs`",
                "`secrets.vault.vaultAddress`"):
        assert key in table
