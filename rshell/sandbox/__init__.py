"""The local sandbox: a Replicate-compatible API on loopback with small CPU models."""
