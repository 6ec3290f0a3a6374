#Requires -Version 2.0
<#
.SYNOPSIS
    Removes the Defender for Endpoint workspace from the Microsoft Monitoring Agent, and only it.

.DESCRIPTION
    Written by mdegen. Offboards a server that reports to Defender for Endpoint through the
    Microsoft Monitoring Agent: removes the configured workspace (RemoveCloudWorkspace of
    AgentConfigManager.MgmtSvcCfg), reloads the agent's configuration, and lists the workspaces
    that remain. Other workspaces (Log Analytics, SCOM) stay as they are. Run it elevated; -WhatIf
    shows what it would do.

    Exit codes: 0 removed (or, with -WhatIf, nothing done); 10 the agent is not
    installed; 11 the workspace is not configured on this agent (nothing to remove);
    12 the agent's configuration object failed.

.PARAMETER Unattended
    Do not ask for confirmation: for a GPO task, a ConfigMgr program or an RMM job, where nobody
    can answer (-Confirm:$false cannot be passed through powershell.exe -File).

.EXAMPLE
    powershell.exe -NoProfile -ExecutionPolicy Bypass -File .\Remove-MdeMmaWorkspace.ps1 -WhatIf
#>
[CmdletBinding(SupportsShouldProcess = $true, ConfirmImpact = 'High')]
param([switch] $Unattended)

if ($env:PROCESSOR_ARCHITEW6432 -eq 'AMD64' -and $MyInvocation.MyCommand.Path) {
    $relaunch = @('-NoProfile', '-ExecutionPolicy', 'Bypass', '-File', $MyInvocation.MyCommand.Path)
    foreach ($parameter in $PSBoundParameters.GetEnumerator()) {
        if ($parameter.Value -is [System.Management.Automation.SwitchParameter]) {
            if ($parameter.Value.IsPresent) {
                $relaunch += ('-' + $parameter.Key)
            }
        }
        elseif ([string] $parameter.Value) {
            # Windows PowerShell drops an empty string on a native command line: leave it out.
            $relaunch += ('-' + $parameter.Key)
            $relaunch += [string] $parameter.Value
        }
    }
    & (Join-Path $env:SystemRoot 'Sysnative\WindowsPowerShell\v1.0\powershell.exe') @relaunch
    exit $LASTEXITCODE
}

Set-StrictMode -Version 2
$ErrorActionPreference = 'Stop'

if ($Unattended) {
    $ConfirmPreference = 'None'
}

$Agent = @{
    WorkspaceId = '0f0e0d0c-0b0a-4988-8776-655443322110'
    Service     = 'HealthService'
    ComClass    = 'AgentConfigManager.MgmtSvcCfg'
}

if (-not (Get-Service -Name $Agent.Service -ErrorAction SilentlyContinue)) {
    Write-Output ('the Microsoft Monitoring Agent is not installed (no {0} service): nothing to remove' -f $Agent.Service)
    exit 10
}
try {
    $config = New-Object -ComObject $Agent.ComClass
    $ids = @($config.GetCloudWorkspaces() | ForEach-Object { [string] $_.workspaceId })
}
catch {
    Write-Output ('the agent configuration object failed: {0}' -f $_.Exception.Message)
    exit 12
}
if ($ids -notcontains $Agent.WorkspaceId) {
    Write-Output ('workspace {0} is not configured on this agent (workspaces: {1}): nothing to remove' -f $Agent.WorkspaceId, ($ids -join ', '))
    exit 11
}
if ($PSCmdlet.ShouldProcess(('workspace {0} of the Microsoft Monitoring Agent' -f $Agent.WorkspaceId), 'Remove')) {
    try {
        $config.RemoveCloudWorkspace($Agent.WorkspaceId)
        $config.ReloadConfiguration()
        $left = @($config.GetCloudWorkspaces() | ForEach-Object { [string] $_.workspaceId })
    }
    catch {
        Write-Output ('the agent configuration object failed: {0}' -f $_.Exception.Message)
        exit 12
    }
    Write-Output ('removed workspace {0}' -f $Agent.WorkspaceId)
    if ($left.Count -eq 0) {
        Write-Output 'no workspace remains: the agent reports nowhere now; uninstall it (Uninstall-MdeMma.ps1) when nothing else uses it'
    }
    else {
        Write-Output ('workspaces that remain: {0}' -f ($left -join ', '))
    }
}
exit 0
