"""A dataset's run through its steps: the steps and what each takes from which (`flow`), the
run every step is given (`run`), and the steps themselves, plain functions runnable without
Airflow (`steps`, `review`, `retire`). Front doors build the run and record each step."""
