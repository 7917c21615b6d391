"""The OCCI views, one module per kind of path; registered by scanning this package."""


def includeme(config) -> None:
    config.scan(__name__)
