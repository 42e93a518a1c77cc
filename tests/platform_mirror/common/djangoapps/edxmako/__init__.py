"""Mirror of ``common/djangoapps/edxmako``: Mako templates found in MAKO_TEMPLATE_DIRS_BASE."""
