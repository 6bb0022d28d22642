"""The library and the work on all of it: index runs, the words pass, watched folders, notices when a library needs care, the duplicates dialog and Explore."""
