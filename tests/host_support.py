"""Host names as hypothesis generates them, for the tests of host-name egress
(test_fqdn_schemas.py, test_hosts.py): valid DNS names (LDH labels, an optional "*." wildcard)
and the characters that must never get into one."""

from __future__ import annotations

import string

from hypothesis import assume
from hypothesis import strategies as st

from scaffold import fqdnpolicy

LDH = string.ascii_lowercase + string.digits


@st.composite
def labels_(draw: st.DrawFn, max_size: int = 63) -> str:
    size = draw(st.integers(1, max_size))
    if size == 1:
        return draw(st.sampled_from(LDH))
    middle = draw(st.text(LDH + "-", min_size=size - 2, max_size=size - 2))
    return draw(st.sampled_from(LDH)) + middle + draw(st.sampled_from(LDH))


@st.composite
def hosts(draw: st.DrawFn) -> str:
    names = draw(st.lists(labels_(20), min_size=1, max_size=4))
    tld = draw(st.text(string.ascii_lowercase, min_size=2, max_size=6))
    host = ".".join([*names, tld])
    if draw(st.booleans()):
        host = "*." + host
    assume(host.rsplit(".", 1)[-1] not in fqdnpolicy.SPECIAL_TLDS)
    return host


HOSTILE = st.sampled_from(["\n", "\r", "\t", " ", "\x00", "\x7f", "\x1b", "\u200b", "\u00a0",
                           "\u2028", "\ufeff", "é", "\u0131", "\U0001f600", "/", ":", "@", "_", "..",
                           "A", "*"])
