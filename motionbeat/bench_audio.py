"""``python -m motionbeat.bench_audio``, the old name of ``python -m motionbeat.audio.bench``."""
import runpy

if __name__ == "__main__":
    runpy.run_module("motionbeat.audio.bench", run_name="__main__", alter_sys=True)
