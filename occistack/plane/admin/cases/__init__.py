"""The site administrator's operations as the faces ask for them: one function per operation,
each taking the :class:`~occistack.plane.context.PlaneContext` and, where the operation has
inputs, one frozen request dataclass; each returns what it made, changed or read as frozen
records (``occistack.plane.admin.records``), never as rows: a face renders what it is given.

The admin API and the command line only translate (JSON body or command-line options → request
→ operation → JSON or text). What the operation needs besides its inputs comes from the context:
the session, who acts (``actor_of``), and the plane's services -- the dispatcher that queues a
download or a bare-metal check, the sealer of BMC passwords, the site's password length and
default quotas. No face passes them one by one.

The operations are built on the row-level rules of ``occistack.plane.admin`` (``create_zone(
session, …)``, ``find_pod``, …), which also serve the code that builds a cloud from a bare session:
the demo, the job handlers and the tests' fixtures.

    inventory   regions, zones, pods, clusters
    hosts       hosts, their resource state and BMC
    storage     primary storage pools, secondary storage
    networks    physical networks and VLAN ranges, IP ranges, zones' public networks
    catalog     offerings, templates and ISOs with their copies
    tenancy     domains, accounts, projects (their default networks and affinity groups)
    users       users and quotas
    reports     the event log, the capacity report
"""
