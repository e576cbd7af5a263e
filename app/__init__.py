"""The web app: upload or record a song, get a dance video, its motion files and its scores.

* :mod:`app.request` - what one request may ask for: limits, settings and their checks
  (:class:`~app.request.InputError` says why not). No gradio.
* :mod:`app.service` - the library: :class:`~app.service.DanceService` (one generator loaded
  once; sample, render, export, score) and clean-up. No gradio.
* :mod:`app.progress` - what the progress bar says: stage, share done, time left. No gradio.
* :mod:`app.turns` - requests taking turns on the generator and the renderer, and stopping a
  request (:class:`~app.turns.CancelFlag`, :class:`~app.turns.Cancelled`). No gradio.
* :mod:`app.plot` - the beat plot (music beats vs motion beats).
* :mod:`app.ui` - the Gradio page and its ``/generate`` API endpoint.
* ``python -m app`` - the server (``app/__main__.py``); usage in ``docs/app.md``.
* ``python -m app.bench`` - whole-song requests timed stage by stage (``docs/app.md``, "Speed").

Importing this package imports neither gradio nor torch models.
"""
