"""Training: the one generic Ray Train loop, objectives, configs."""
