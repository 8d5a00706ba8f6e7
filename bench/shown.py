"""How a benchmark's markdown shows the command that made it: a path outside the repository is named by its role
(PHOTOS, CHECKPOINT...), so that no committed file names a folder of one machine."""
import shlex
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

def outside_repo(value:str) -> bool:
    "Whether `value` is a path that exists outside this repository."
    path = Path(value)
    if not path.exists(): return False
    return not path.resolve().is_relative_to(REPO)

def shown_command(argv:list, roles:dict) -> str:
    "`argv` as a shell line, each value of `roles` ({path: 'ROLE'}) and any other path outside the repository named by its role or 'PATH'."
    named = {str(k): v for k, v in roles.items() if k}
    return shlex.join(named.get(a, 'PATH' if outside_repo(a) else a) for a in argv)

def shown_path(path, role:str) -> str:
    "`path` as the markdown shows it: inside the repository, relative to it; outside, its role."
    resolved = Path(path).resolve()
    return str(resolved.relative_to(REPO)) if resolved.is_relative_to(REPO) else role
