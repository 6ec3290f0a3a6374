"""The route by which `mdegen sccm-package` onboards each target: a package and program that run
the onboarding payload, or a Microsoft Defender for Endpoint policy of a current-branch site made
from the portal's ConfigMgr file. The SCCM kit builds each target's route; `mdegen plan` names it.
The choice rests on the config alone (whether packages.configmgr_onboarding is given; the kit that
deploys the file reads and checks it)."""

from __future__ import annotations

from dataclasses import dataclass

from generator.config import policy_route_serves
from generator.errors import ConfigError
from generator.policy import PASSIVE_MODE_VALUE
from generator.project import Project, ResolvedTarget
from generator.releases import joined

PACKAGE_ROUTE, POLICY_ROUTE = "package", "policy"
POLICY_DASHBOARD = "Monitoring > Security > Microsoft Defender ATP"
# Why auto keeps a target on the package although the policy could onboard it: it would move to the
# policy when its passive mode goes off.
PASSIVE_REASON = "passive mode is on, and only the package sets it before onboarding"


@dataclass(frozen=True)
class RouteChoice:
    route: str                      # PACKAGE_ROUTE | POLICY_ROUTE
    reason: str                     # why, for the handoff


def _chosen_route(project: Project, target: ResolvedTarget) -> tuple[str, str]:
    """(configured route, the field that set it) of a target."""
    own = project.config.targets[target.index].sccm_route if target.index is not None else None
    if own is not None:
        return own, f"{target.field}.sccm_route"
    return project.config.sccm.route, "sccm.route"


def route_of(project: Project, target: ResolvedTarget) -> RouteChoice:
    """How the kit onboards ``target``: the configured route, or with ``auto`` the Defender for
    Endpoint policy wherever it can do the whole job (what a current-branch site does in 2026), else
    the package. The policy cannot set passive mode before onboarding, so a target with passive mode
    on stays on the package, whose wrapper (or install.ps1 -Passive) sets it first. Raises
    ConfigError, naming the field, for a policy route the target cannot take."""
    chosen, field = _chosen_route(project, target)
    serves = policy_route_serves([r.key for r in target.releases], target.agent)
    blob = project.config.packages.configmgr_onboarding is not None
    passive = target.settings.passive_mode is True
    what = f"{joined([r.name for r in target.releases])}" + (f" with the {target.agent} agent" if target.agent else "")
    if chosen == PACKAGE_ROUTE:
        return RouteChoice(PACKAGE_ROUTE, f"chosen in {field}")
    if chosen == POLICY_ROUTE:
        if not serves:
            raise ConfigError(f"policy: the Defender for Endpoint policy does not onboard target {target.name!r} "
                              f"({what}); set sccm_route: package for it", path=project.source, field=field)
        if not blob:
            raise ConfigError(f"is required by {field}: policy (the portal's \"Microsoft Endpoint Configuration Manager "
                              "current branch and later\" package)", path=project.source,
                              field="packages.configmgr_onboarding")
        if passive:
            raise ConfigError(f"policy: target {target.name!r} has passive mode on, and the Defender for Endpoint policy "
                              f"cannot set {PASSIVE_MODE_VALUE} before onboarding: use package for it (its wrapper "
                              "sets passive mode first), or set passive_mode to false for it",
                              path=project.source, field=field)
        return RouteChoice(POLICY_ROUTE, f"chosen in {field}")
    if not serves:
        return RouteChoice(PACKAGE_ROUTE, f"the Defender for Endpoint policy does not onboard {what}")
    if not blob:
        return RouteChoice(PACKAGE_ROUTE, "packages.configmgr_onboarding is not given (the policy is made from it)")
    if passive:
        return RouteChoice(PACKAGE_ROUTE, PASSIVE_REASON)
    return RouteChoice(POLICY_ROUTE, "the route of a current-branch site: no package to distribute, and the "
                                     f"{POLICY_DASHBOARD} dashboard shows each server's state")


def routes(project: Project) -> dict[str, RouteChoice]:
    """Each target's route, by target name."""
    return {t.name: route_of(project, t) for t in project.targets}
