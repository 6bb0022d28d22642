"""The desktop app: the only package that imports Qt. A thin face over photofinder.core."""
