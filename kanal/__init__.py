"""Kanal: the social media desk of a municipality."""
