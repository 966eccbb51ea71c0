"""The Replicate HTTP API client: one async httpx client shared by every command."""
