"""Song -> dance with a trained generator: the pipeline, long-form windows and editing."""
