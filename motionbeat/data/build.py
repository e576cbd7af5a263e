"""``python -m motionbeat.data.build``, the old name of ``python -m motionbeat.choreography.build``."""
import runpy

if __name__ == "__main__":
    runpy.run_module("motionbeat.choreography.build", run_name="__main__", alter_sys=True)
