"""Mirror of ``xmodule/modulestore/exceptions.py`` (the exceptions a sink may catch)."""


class ItemNotFoundError(Exception):
    """No block (or course) with that key in the requested branch."""


class ItemWriteConflictError(Exception):
    """Mirrors edx-platform; not raised by the mirror store."""


class MultipleCourseBlocksFound(Exception):
    """Mirrors edx-platform; not raised by the mirror store."""


class InsufficientSpecificationError(Exception):
    """A key lacks what the operation needs (e.g. no branch)."""


class InvalidLocationError(Exception):
    """Mirrors edx-platform; not raised by the mirror store."""


class DuplicateItemError(Exception):
    """A block with that key already exists."""

    def __init__(self, element_id, store=None, collection=None):
        super().__init__(element_id, store, collection)
        self.element_id = element_id
        self.store = store
        self.collection = collection


class DuplicateCourseError(Exception):
    """A course with that key already exists."""

    def __init__(self, course_id, existing_entry):
        super().__init__(course_id, existing_entry)
        self.course_id = course_id
        self.existing_entry = existing_entry


class VersionConflictError(Exception):
    """Mirrors edx-platform; not raised by the mirror store."""
