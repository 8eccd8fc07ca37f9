import gc

from kamportal import create_app

app = create_app()
# The app's own objects (routes, models, templates' machinery: some 250,000) live as long
# as the process: frozen out of the collector, a full collection no longer walks them at
# some request's expense (100 ms every few dozen requests, measured in bench/README.md).
gc.freeze()
