"""Environment variables that change how a program is loaded, interpreted or connected,
rather than what it does: set from a place an attacker can write (the secret store, a file on
a writable volume) they run the attacker's code in the server or redirect its traffic.

By mechanism, each with where it is read:
- loader: glibc ld.so(8) (LD_PRELOAD, LD_LIBRARY_PATH, LD_AUDIT, ... all LD_*), musl too;
  macOS dyld (DYLD_*);
- interpreter: node(1) "Environment" (NODE_OPTIONS --require/--import, NODE_PATH), python(1)
  "Environment variables" (PYTHONPATH, PYTHONSTARTUP, PYTHONHOME, PYTHONUSERBASE,
  PYTHONINSPECT, PYTHONBREAKPOINT), the JVM launcher (JAVA_TOOL_OPTIONS, _JAVA_OPTIONS,
  JDK_JAVA_OPTIONS, CLASSPATH), perlrun(1) (PERL5OPT, PERL5LIB, PERLLIB), ruby(1) (RUBYOPT,
  RUBYLIB);
- shell: bash(1) INVOCATION (BASH_ENV; ENV for sh), exported functions (BASH_FUNC_*),
  SHELLOPTS, PS4, IFS, PROMPT_COMMAND;
- proxy: curl, Python requests/urllib, Node undici and Go net/http read HTTP_PROXY,
  HTTPS_PROXY, ALL_PROXY, NO_PROXY (and the lower-case forms): traffic to any host goes
  through the proxy, which sees it;
- CA bundle: NODE_EXTRA_CA_CERTS (node), SSL_CERT_FILE / SSL_CERT_DIR (OpenSSL, Go),
  REQUESTS_CA_BUNDLE (requests), CURL_CA_BUNDLE, NODE_TLS_REJECT_UNAUTHORIZED: an attacker's CA
  is trusted, so TLS no longer protects the traffic;
- locale and iconv: glibc iconv_open(3) GCONV_PATH (loads a shared object), LOCPATH, NLSPATH,
  HOSTALIASES (gethostbyname(3)), RESOLV_HOST_CONF.
- and PATH, which decides which binary a bare command name runs.

A leaf module: it imports nothing from the package."""

from __future__ import annotations

from types import MappingProxyType

_BY_MECHANISM: dict[str, tuple[str, ...]] = {
    "interpreter": ("NODE_OPTIONS", "NODE_PATH", "PYTHONPATH", "PYTHONSTARTUP", "PYTHONHOME",
                    "PYTHONUSERBASE", "PYTHONINSPECT", "PYTHONBREAKPOINT", "JAVA_TOOL_OPTIONS",
                    "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS", "CLASSPATH", "PERL5OPT", "PERL5LIB",
                    "PERLLIB", "RUBYOPT", "RUBYLIB"),
    "shell": ("BASH_ENV", "ENV", "SHELLOPTS", "BASHOPTS", "PS4", "IFS", "PROMPT_COMMAND"),
    "proxy": ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy",
              "all_proxy", "no_proxy"),
    "CA bundle": ("NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE",
                  "CURL_CA_BUNDLE", "NODE_TLS_REJECT_UNAUTHORIZED"),
    "locale/iconv": ("GCONV_PATH", "LOCPATH", "NLSPATH", "HOSTALIASES", "RESOLV_HOST_CONF"),
    "command search": ("PATH",),
}
NAMES = MappingProxyType({name: why for why, names in _BY_MECHANISM.items() for name in names})
PREFIXES = MappingProxyType({"LD_": "loader", "DYLD_": "loader", "BASH_FUNC_": "shell"})


def mechanism(name: str) -> str | None:
    """Which mechanism a variable of this name controls, or None for an ordinary setting."""
    found = NAMES.get(name)
    if found is not None:
        return found
    return next((why for prefix, why in PREFIXES.items() if name.startswith(prefix)), None)


def paths_in(value: str) -> list[str]:
    """The absolute paths a value names (PATH-like lists, option values: `--require=/x`)."""
    out: list[str] = []
    for word in value.replace(",", " ").replace(";", " ").split():
        for piece in word.split(":"):
            piece = piece.split("=", 1)[-1]
            if piece.startswith("/"):
                out.append(piece)
    return out
