"""``python -m motionbeat.data.report``, the old name of ``python -m motionbeat.choreography.report``."""
import runpy

if __name__ == "__main__":
    runpy.run_module("motionbeat.choreography.report", run_name="__main__", alter_sys=True)
