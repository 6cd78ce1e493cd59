"""mcp-scaffold: hardened, verified Kubernetes bundles for MCP servers."""

__version__ = "0.3.0"
