"""``python -m motionbeat.evaluate``, the old name of ``python -m motionbeat.encoder.evaluate``."""
import runpy

if __name__ == "__main__":
    runpy.run_module("motionbeat.encoder.evaluate", run_name="__main__", alter_sys=True)
