"""``python -m motionbeat.train``, the old name of ``python -m motionbeat.encoder.train``."""
import runpy

if __name__ == "__main__":
    runpy.run_module("motionbeat.encoder.train", run_name="__main__", alter_sys=True)
