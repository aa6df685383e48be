"""Losses: every training objective as pure functions over tensors."""
