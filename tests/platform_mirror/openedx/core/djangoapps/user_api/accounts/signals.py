"""Mirror of ``user_api/accounts/signals.py``: the retirement signals.

``USER_RETIRE_LMS_MISC`` is sent by ``LMSAccountRetirementView.post`` as
``send(sender=LMSAccountRetirementView, user=<User>)``: the only keyword is ``user``.
"""

from django.dispatch import Signal

# Signal to retire a user from LMS-initiated mailings (course mailings, etc)
# providing_args=["user"]
USER_RETIRE_MAILINGS = Signal()

# Signal to retire LMS critical information
# providing_args=["user"]
USER_RETIRE_LMS_CRITICAL = Signal()

# Signal to retire LMS misc information
# providing_args=["user"]
USER_RETIRE_LMS_MISC = Signal()
