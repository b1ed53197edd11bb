"""Test helpers shared by the test tiers (the loopback LLM server lives here)."""
