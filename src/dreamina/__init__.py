"""Dreamina: an AI image and video generation backend whose privacy policy is enforced by code."""
