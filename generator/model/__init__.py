"""The generator's model: config, denoiser, diffusion wrapper, domain losses, music conditioning."""
