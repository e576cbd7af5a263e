"""Old name of ``python -m motionbeat.choreography.choreograph``."""
import runpy

if __name__ == "__main__":
    runpy.run_module("motionbeat.choreography.choreograph", run_name="__main__", alter_sys=True)
