"""The volunteer lifecycle, kept beside matching: application, interview, vetting, confidentiality,
training, supervision, pauses, retirement, and the coordinator's report.

Why a subpackage of matching and not a service of its own: the organisation that recruits a
volunteer runs the matching instance that holds them, and whether a volunteer may be proposed
must be decided in the same transaction that reads their capacity (no event lag in which an
expired or paused volunteer is still proposed). Why not inside matching's own modules: the
lifecycle has many steps and rules of its own, and proposals, ranking and the batch assignment
need only one answer from it, `ready_roles` (see `lifecycle.py`), applied where volunteer
candidates are loaded (`adapters/repository.py`). So proposal code stays as it was.

- `lifecycle.py`: pure rules (records, status, blockers, expiries, supervision), unit-tested;
- `settings.py`: the lifecycle's settings (vetting validity, required courses, supervision period);
- `store.py`: its tables read into domain records and written from use cases;
- `service.py`: one use case per step, one transaction each;
- `report.py`: the coordinator's report (pure figures) and the friendship figures' extension point;
- `api.py`: the HTTP routes, included by matching's router.
"""
