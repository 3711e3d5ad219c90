"""Helpers of the integration suite."""
