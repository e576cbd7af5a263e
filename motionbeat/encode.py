"""``python -m motionbeat.encode``, the old name of ``python -m motionbeat.encoder.encode``."""
import runpy

if __name__ == "__main__":
    runpy.run_module("motionbeat.encoder.encode", run_name="__main__", alter_sys=True)
