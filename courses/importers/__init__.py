"""Importers that turn other lab formats into k8s-lab course folders.

Each importer reads its source into plain in-memory objects (never writing), and
`courses.importers.writer` turns those into course.yaml + lessons/NN-<slug>.md.
"""
