"""What every part runs on: the search thread (queries, browse pages, catalog reads), the loaded models, and the app's QThreads."""
