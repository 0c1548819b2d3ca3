"""Weekly review: the whole caseload, most urgent first."""

import streamlit as st

from redflags.clinic_time import clinic_timezone, local_today
from redflags.engine import sort_review
from services.review import weekly_review
from ui import state

actor = state.require_login()
st.title("Weekly review")
as_of = st.date_input("As of", value=local_today(clinic_timezone()), format="DD/MM/YYYY")
review = weekly_review(engine=state.engine(), actor=actor, as_of=as_of, config=state.rules())
table = sort_review(review.table)
counts = table["status"].value_counts()
columns = st.columns(4)
for column, status in zip(columns, ("urgent", "red", "amber", "green"), strict=True):
    column.metric(status.capitalize(), int(counts.get(status, 0)))
st.dataframe(table, hide_index=True)
