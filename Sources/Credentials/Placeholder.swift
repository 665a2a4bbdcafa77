import BosunCore
