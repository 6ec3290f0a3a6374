#Requires -Version 5.1
<#
.SYNOPSIS
    Creates the mdegen Configuration Manager objects that onboard Windows Servers to Microsoft Defender for Endpoint.
    The script is not signed: start it with powershell.exe -ExecutionPolicy Bypass -File (see the examples).

.DESCRIPTION
    Run this script in Windows PowerShell 5.1 on a computer with the Configuration Manager console,
    as an administrative user with rights to create packages, collections, configuration items and
    deployments. It finds the ConfigurationManager module in PSModulePath (console 2111 and later)
    or through SMS_ADMIN_UI_PATH, and connects to the site through a CMSite drive.

    The script is not signed. Start it from a command prompt or a PowerShell window in the kit
    folder with
        powershell.exe -ExecutionPolicy Bypass -File .\New-MdeCmPackage.ps1 -SiteCode <code> -SourcePath <UNC> -DistributionPointGroup "<name>"
    (-ExecutionPolicy Bypass applies to that one process). The console's "Connect via Windows
    PowerShell" session runs with execution policy AllSigned and refuses to start it.

    -SourcePath is the UNC folder that holds the kit's packages\ folder (copy the kit there first;
    the site server's computer account needs read access). The script checks every file of the
    kit on the share against the hashes it was written with, and reads the compliance discovery
    scripts from the compliance\ folder beside this script.

    For each package of the kit it:

      1. creates the package, or updates its description, manufacturer, language, version and
         source path where they differ;
      2. creates the program (hidden, whether or not a user is logged on, administrative rights,
         UNC drive mode, no action after running), or updates it where it differs;
      3. distributes the content to -DistributionPointGroup unless the group already has it
         (and refreshes the distribution points when the source path or version changed);
      4. onboarding only: creates a device collection with a daily-refreshed query rule that
         selects the target's Windows Server builds, limited to -LimitingCollection;
      5. onboarding only, with -Deploy: deploys the program to that collection as Required,
         rerun when the previous attempt failed, on a daily schedule;
      6. creates a non-remediating configuration item with script settings (OnboardingState = 1
         in the 64-bit registry view, and the passive-mode policy where the kit sets it) and a
         configuration baseline holding it; with -Deploy, deploys the baseline to the collection;
      7. with -CreateApplication: creates an Application with a script deployment type whose
         detection rule is what the program ensures: OnboardingState = 1 and, where the package
         sets passive mode, ForceDefenderPassiveMode = its value (both in the 64-bit view), so that
         Configuration Manager keeps retrying until the server is onboarded and a server that was
         onboarded before still gets passive mode; with -Deploy the Application, not the program,
         is deployed to the collection. The detection rule of an existing deployment type is never
         changed.

    Nothing is ever deployed without -Deploy. The offboarding package is created and distributed
    but never deployed: the script prints how to deploy it. Never deploy it to a collection where
    the onboarding program, Application or baseline is deployed.

    Every change goes through -WhatIf/-Confirm. A second run changes nothing and says so.
    Existing objects are found by name; a deployment that exists is left as it is. The script
    stops at the first error and says which step failed and what to do; steps that finished are
    skipped when it is run again.

.PARAMETER SiteCode
    The three-character site code, e.g. ABC.

.PARAMETER SiteServer
    The SMS Provider server (FQDN). Needed only when this PowerShell session has no CMSite drive
    for the site yet.

.PARAMETER SourcePath
    UNC path of the folder that holds the kit's packages\ folder, e.g. \\fs01.contoso.com\Sources$\MDE.

.PARAMETER DistributionPointGroup
    Name of the distribution point group that receives the content.

.PARAMETER LimitingCollection
    Limiting collection of the new device collections. Default: All Systems.

.PARAMETER Deploy
    Create the deployments (program or Application, and baselines). Without
    it, objects are created and content is distributed, but nothing is deployed.

.PARAMETER CreateApplication
    Also create an Application with a script deployment type and a registry detection rule; with
    -Deploy it is deployed instead of the program.

.EXAMPLE
    powershell.exe -ExecutionPolicy Bypass -File .\New-MdeCmPackage.ps1 -SiteCode ABC -SourcePath \\fs01.contoso.com\Sources$\MDE -DistributionPointGroup "All DPs" -WhatIf

    Shows what the script would change, and changes nothing.

.EXAMPLE
    powershell.exe -ExecutionPolicy Bypass -File .\New-MdeCmPackage.ps1 -SiteCode ABC -SiteServer cm01.contoso.com -SourcePath \\fs01.contoso.com\Sources$\MDE -DistributionPointGroup "All DPs" -Deploy
#>
[CmdletBinding(SupportsShouldProcess = $true, ConfirmImpact = 'Medium')]
param(
    [Parameter(Mandatory = $true)]
    [ValidatePattern('^[A-Za-z0-9]{3}$')]
    [string] $SiteCode,

    [string] $SiteServer = '',

    [Parameter(Mandatory = $true)]
    [ValidatePattern('^\\\\[^\\]+\\[^\\]+')]
    [string] $SourcePath,

    [Parameter(Mandatory = $true)]
    [ValidateNotNullOrEmpty()]
    [string] $DistributionPointGroup,

    [ValidateNotNullOrEmpty()]
    [string] $LimitingCollection = 'All Systems',

    [switch] $Deploy,

    [switch] $CreateApplication
)

Set-StrictMode -Version 2
$ErrorActionPreference = 'Stop'

# ---------------------------------------------------------------------------------------------
# Kit contents, written by mdegen. Values are single-quoted literals: PowerShell expands nothing
# inside them.
# ---------------------------------------------------------------------------------------------
$Kit = [pscustomobject]@{
    Organization = 'Fabrikam & Söhne <IT> ''Ops'' $team'
    Release      = '2026.12.0-rc.1'
}

$Packages = @(
    [pscustomobject]@{
        Route          = 'package'
        Role           = 'onboarding'
        TargetName     = 'Servers'
        Folder         = 'MDE-Onboarding-Servers'
        Name           = 'MDE Onboarding - Servers'
        Version        = '2026.12.0-rc.1'
        Manufacturer   = 'Microsoft'
        Language       = 'Neutral'
        Description    = 'Onboards Windows Server 2019, 2022, 2025 member servers to Defender for Endpoint; passive mode off. mdegen'
        PassiveMode    = 0
        Detection      = 'OnboardingState = 1 and ForceDefenderPassiveMode = 0 (64-bit)'
        ProgramName    = 'Onboard'
        CommandLine    = 'MdeOnboard.cmd'
        ProgramComment = 'Runs the Defender for Endpoint onboarding script (passive mode off); exit code = script error id'
        Duration       = 15
        DiskSpaceMB    = 1
        Files          = @(
            [pscustomobject]@{ Name = 'WindowsDefenderATPOnboardingScript.cmd'; Sha256 = '92177C9C747F5FE1D38CE04B7C427DD44FB62E1F189F553D285DE4AB578AA717' }
            [pscustomobject]@{ Name = 'MdeOnboard.cmd'; Sha256 = '2099DDE7B7D9A2A0959A7F3B0C82784C323A8784BC6513EEDFAFF46CFD5AA783' }
        )
        Notes          = @(
        )
        Collection     = [pscustomobject]@{
            Name     = 'MDE - Servers - Windows Server 2019, 2022, 2025 member servers'
            Comment  = 'Defender for Endpoint onboarding, target ''Servers'': Windows Server 2019 (10.0.17763), Windows Server 2022 (10.0.20348) and Windows Server 2025 (10.0.26100) member servers. Generated by mdegen for Fabrikam & Söhne <IT> ''Ops'' $team release 2026.12.0-rc.1.'
            RuleName = 'MDE - Servers'
            Query    = 'select SMS_R_System.ResourceID,SMS_R_System.ResourceType,SMS_R_System.Name,SMS_R_System.SMSUniqueIdentifier,SMS_R_System.ResourceDomainORWorkgroup,SMS_R_System.Client from SMS_R_System inner join SMS_G_System_OPERATING_SYSTEM on SMS_G_System_OPERATING_SYSTEM.ResourceId = SMS_R_System.ResourceId where SMS_G_System_OPERATING_SYSTEM.ProductType = 3 and SMS_G_System_OPERATING_SYSTEM.OperatingSystemSKU <> 175 and SMS_R_System.Build IN ("10.0.17763","10.0.20348","10.0.26100")'
        }
        Compliance     = [pscustomobject]@{
            CiName       = 'MDE Onboarding - Servers'
            BaselineName = 'MDE Onboarding - Servers'
            Description  = 'Reports whether Windows Server 2019, 2022, 2025 member servers are onboarded to Defender for Endpoint and have passive mode off. Non-remediating. mdegen'
            Settings     = @(
                [pscustomobject]@{
                    Name     = 'Defender for Endpoint onboarding state'
                    File     = 'Get-MdeOnboardingState.ps1'
                    Sha256   = '97BD4D4B6A2D3ABF75D0BA79742F50ADC4267049646ED1DFDC58EFE6220AC864'
                    Expected = 'Compliant'
                }
                [pscustomobject]@{
                    Name     = 'Defender Antivirus passive mode policy'
                    File     = 'Get-MdePassiveMode-Off.ps1'
                    Sha256   = '3788C0F284D1BE573CDC37C97A78933018BF8325BA05B55CED4306D7765FE3C0'
                    Expected = 'Compliant'
                }
            )
        }
    }
)
$Policies = @(
)
# The packages first: a target is on one route, so the order only sets the order of the output.
$KitObjects = @($Packages) + @($Policies)
# The compliance settings mdegen writes, and how its offboarding packages and policies are named
# (in every release): what the script looks for before it deploys.
$SettingNames = @(
    'Defender for Endpoint onboarding state'
    'Defender Antivirus passive mode policy'
)
$OffboardingPackagePrefixes = @(
    'MDE Offboarding until '
    'MDE Offboard - '
)
$OffboardingPolicyPrefix = 'MDE Offboarding policy until '

# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------
$Results = New-Object System.Collections.Generic.List[object]

# SMS_Program.ProgramFlags the kit's programs must have, and must not have.
$FlagsSet = 0x8000 -bor 0x100000 -bor 0x1000000       # ADMINRIGHTS, USEUNCPATH, HIDEWINDOW
$FlagsClear = 0x4000 -bor 0x20000 -bor 0x40000 -bor 0x80000 -bor 0x400000 -bor 0x800000 -bor 0x2000000
# USERCONTEXT, NOUSERLOGGEDIN (neither: whether or not a user is logged on), OKTOQUIT, OKTOREBOOT,
# RUNMINIMIZED, RUNMAXIMIZED, OKTOLOGOFF (none: no action after running)

function Add-Result {
    param([string] $Kind, [string] $Name, [string] $Outcome, [string] $Detail = '')
    $Results.Add([pscustomobject]@{ Object = $Kind; Name = $Name; Outcome = $Outcome; Detail = $Detail })
    Write-Host ('  {0,-16} {1}: {2}' -f $Outcome, $Kind, $Name)
    if ($Detail) {
        Write-Host ('                   {0}' -f $Detail)
    }
}

function Get-SkippedOutcome {
    # ShouldProcess said no: -WhatIf (plan only) or the admin declined at a -Confirm prompt.
    param([string] $Planned)
    if ($WhatIfPreference) {
        return ('would be ' + $Planned)
    }
    return 'skipped'
}

function Stop-Setup {
    param([string] $Step, [string] $Object, [string] $Reason, [string] $Fix)
    $message = 'Step "{0}" failed for {1}.{2}Reason: {3}{2}What to do: {4}' -f $Step, $Object, [Environment]::NewLine, $Reason, $Fix
    throw $message
}

function Invoke-Checked {
    # Runs one site operation; on failure stops with the current step and object and what to do.
    param([string] $Fix, [scriptblock] $Operation)
    try {
        return (& $Operation)
    }
    catch {
        Stop-Setup -Step $step -Object $object -Reason $_.Exception.Message -Fix $Fix
    }
}

function Select-Named {
    # The objects whose property equals the name (ConfigMgr compares names case-insensitively).
    param([object[]] $Items, [string] $Property, [string] $Name)
    $out = @()
    foreach ($item in $Items) {
        if ($null -ne $item -and [string]::Equals([string] $item.$Property, $Name, [StringComparison]::OrdinalIgnoreCase)) {
            $out += $item
        }
    }
    return , $out
}

function Test-SameText {
    param([string] $A, [string] $B)
    return [string]::Equals($A, $B, [StringComparison]::Ordinal)
}

function Test-SameQuery {
    # WQL texts equal apart from white space and letter case.
    param([string] $A, [string] $B)
    $a1 = ($A -replace '\s+', ' ').Trim()
    $b1 = ($B -replace '\s+', ' ').Trim()
    return [string]::Equals($a1, $b1, [StringComparison]::OrdinalIgnoreCase)
}

function Get-FileSystemPath {
    # Provider-qualified, so file paths work while the current location is the CMSite drive.
    param([string] $Path)
    return ('Microsoft.PowerShell.Core\FileSystem::' + $Path)
}

function ConvertTo-Crlf {
    param([string] $Text)
    return (($Text -replace "`r`n", "`n") -replace "`n", "`r`n")
}

function Get-TextSha256 {
    # SHA-256 (upper-case hex) of the text's UTF-8 bytes, without a byte order mark.
    param([string] $Text)
    $bytes = (New-Object System.Text.UTF8Encoding($false)).GetBytes($Text)
    $hash = [System.Security.Cryptography.SHA256]::Create().ComputeHash($bytes)
    return ([System.BitConverter]::ToString($hash) -replace '-', '')
}

function ConvertTo-PsLiteral {
    # A single-quoted PowerShell literal for printing a command the admin can paste.
    param([string] $Text)
    return ("'" + ($Text -replace '[''\u2018\u2019\u201A\u201B]', '$0$0') + "'")
}

function Invoke-SiteQuery {
    # A read-only WQL query through the site connection (never skipped by -WhatIf).
    param([string] $Query)
    return , @(Invoke-CMWmiQuery -Query $Query -Option Fast -WhatIf:$false -Confirm:$false)
}

function Test-InDpGroup {
    # True when the content (a package's or an Application's PackageID) is assigned to the group.
    param([string] $GroupId, [string] $PackageId)
    if ($GroupId -notmatch '^\{?[0-9A-Fa-f-]{36}\}?$' -or $PackageId -notmatch '^[A-Za-z0-9]{8}$') {
        throw ('Unexpected distribution point group ID ''{0}'' or package ID ''{1}''.' -f $GroupId, $PackageId)
    }
    $query = 'SELECT * FROM SMS_DPGroupContentInfo WHERE GroupID = ''{0}'' AND PackageID = ''{1}''' -f $GroupId, $PackageId
    return ((Invoke-SiteQuery -Query $query).Count -gt 0)
}

function Get-ProgramDifferences {
    # What differs between an SMS_Program and the kit's program.
    param($Program, $Wanted)
    $differences = @()
    if (-not (Test-SameText -A ([string] $Program.CommandLine) -B $Wanted.CommandLine)) {
        $differences += 'command line'
    }
    if (-not (Test-SameText -A ([string] $Program.Comment) -B $Wanted.ProgramComment)) {
        $differences += 'comment'
    }
    if ([int] $Program.Duration -ne $Wanted.Duration) {
        $differences += 'maximum run time'
    }
    $flags = [int64] $Program.ProgramFlags
    if ((($flags -band $FlagsSet) -ne $FlagsSet) -or (($flags -band $FlagsClear) -ne 0)) {
        $differences += 'run settings'
    }
    return , $differences
}

function Test-AtpPolicyCmdlets {
    # The Defender for Endpoint policy cmdlets exist from ConfigMgr 1610 on; System Center 2012 R2 has none.
    param()
    return ($null -ne (Get-Command -Name 'Get-CMAdvancedThreatProtectionPolicy' -ErrorAction SilentlyContinue))
}

function Test-ApplicationDeployed {
    # True when the Application of this name (the package route's -CreateApplication) is deployed to the collection.
    param([string] $Name, [string] $CollectionId)
    foreach ($app in (Select-Named -Items @(Get-CMApplication -Name $Name -DisableWildcardHandling) -Property 'LocalizedDisplayName' -Name $Name)) {
        if (@(Get-CMApplicationDeployment -InputObject $app -CollectionId $CollectionId).Count -gt 0) {
            return $true
        }
    }
    return $false
}

function Write-RouteConflict {
    # On a deployment that exists already: warns when something else of mdegen's that must not be
    # there is deployed to the same collection too (Get-RouteConflict); the script changes nothing.
    param([string] $Route, [string] $Name, $Collection)
    $conflict = Get-RouteConflict -Route $Route -Name $Name -CollectionId $Collection.CollectionID
    if ($conflict) {
        Write-Warning ('Also deployed to collection ''{0}'': {1}. One way onboards a server, and nothing offboards it meanwhile: delete the deployments named (Monitoring > Deployments).' -f $Collection.Name, $conflict)
    }
}

function Get-RouteConflict {
    # What else of mdegen's is deployed to the collection and must not be where the target's
    # onboarding by $Route is deployed: the other route of the same target (its package or
    # Application, or its policy), and any offboarding package or policy of any release. Empty
    # when nothing is. Read-only.
    param([string] $Route, [string] $Name, [string] $CollectionId)
    $found = @()
    if ($Route -eq 'policy') {
        foreach ($old in (Select-Named -Items @(Get-CMPackage -Name $Name -Fast -DisableWildcardHandling) -Property 'Name' -Name $Name)) {
            if (@(Get-CMPackageDeployment -PackageId $old.PackageID -CollectionId $CollectionId).Count -gt 0) {
                $found += ('package ''{0}'' ({1}, the package route)' -f $Name, $old.PackageID)
            }
        }
        if (Test-ApplicationDeployed -Name $Name -CollectionId $CollectionId) {
            $found += ('application ''{0}'' (the package route)' -f $Name)
        }
    }
    $atp = @()
    if (Test-AtpPolicyCmdlets) {
        $atp = @(Get-CMAdvancedThreatProtectionPolicy -Fast)
    }
    foreach ($policy in $atp) {
        $policyName = [string] $policy.LocalizedDisplayName
        $other = ($Route -eq 'package') -and [string]::Equals($policyName, $Name, [StringComparison]::OrdinalIgnoreCase)
        if ($other -or $policyName.StartsWith($OffboardingPolicyPrefix, [StringComparison]::OrdinalIgnoreCase)) {
            if (@(Get-CMConfigurationPolicyDeployment -InputObject $policy -CollectionId $CollectionId -Fast).Count -gt 0) {
                $found += ('Defender for Endpoint policy ''{0}''' -f $policyName)
            }
        }
    }
    foreach ($prefix in $OffboardingPackagePrefixes) {
        foreach ($off in @(Get-CMPackage -Name ($prefix + '*') -Fast)) {
            if (@(Get-CMPackageDeployment -PackageId $off.PackageID -CollectionId $CollectionId).Count -gt 0) {
                $found += ('offboarding package ''{0}'' ({1})' -f $off.Name, $off.PackageID)
            }
        }
    }
    return ($found -join '; ')
}

# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------
$OnboardingStatusKey = 'SOFTWARE\Microsoft\Windows Advanced Threat Protection\Status'
$PassiveModeKey = 'SOFTWARE\Policies\Microsoft\Windows Advanced Threat Protection'
$StartCommand = 'powershell.exe -ExecutionPolicy Bypass -File .\New-MdeCmPackage.ps1 -SiteCode <code> [-SiteServer <SMS Provider FQDN>] -SourcePath <UNC> -DistributionPointGroup "<name>"'
$OffboardingInfo = @()
$step = 'Check the kit'
$object = 'the kit folder'
$pushed = $false
try {
    Write-Host ('mdegen Configuration Manager kit: {0}, release {1}' -f $Kit.Organization, $Kit.Release)

    # 1. Discovery scripts of the configuration items, from the kit's compliance folder.
    $kitRoot = $PSScriptRoot
    if (-not $kitRoot) {
        Stop-Setup -Step $step -Object $object -Reason 'The script was not started from a file, so it cannot find the kit.' -Fix ('Run it as a file from the kit folder: {0}' -f $StartCommand)
    }
    $complianceRoot = $kitRoot.TrimEnd('\') + '\compliance'
    $DiscoveryTexts = @{}
    foreach ($p in $KitObjects) {
        if ($null -eq $p.Compliance) {
            continue
        }
        foreach ($s in $p.Compliance.Settings) {
            $path = $complianceRoot + '\' + $s.File
            $object = 'discovery script ' + $path
            if (-not (Test-Path -LiteralPath (Get-FileSystemPath -Path $path) -PathType Leaf)) {
                Stop-Setup -Step $step -Object $object -Reason 'The file is missing.' -Fix 'Run the script from the complete kit folder as mdegen wrote it (compliance\ must sit beside the script); copy the whole folder again if files are missing.'
            }
            $text = ConvertTo-Crlf -Text ([System.IO.File]::ReadAllText($path, [System.Text.Encoding]::UTF8))
            if ((Get-TextSha256 -Text $text) -ne $s.Sha256) {
                Stop-Setup -Step $step -Object $object -Reason 'The file differs from the one mdegen wrote for this release.' -Fix 'Copy the kit folder again from the mdegen output of this release (or render it again), then run again.'
            }
            $DiscoveryTexts[$s.File] = $text
        }
    }

    # 1b. The Defender for Endpoint policies' files, from the kit's policy folder.
    $policyRoot = $kitRoot.TrimEnd('\') + '\policy'
    foreach ($p in $Policies) {
        $path = $policyRoot + '\' + $p.File
        $object = 'policy file ' + $path
        if (-not (Test-Path -LiteralPath (Get-FileSystemPath -Path $path) -PathType Leaf)) {
            Stop-Setup -Step $step -Object $object -Reason 'The file is missing.' -Fix 'Run the script from the complete kit folder as mdegen wrote it (policy\ must sit beside the script); copy the whole folder again if files are missing.'
        }
        if ((Get-FileHash -LiteralPath (Get-FileSystemPath -Path $path) -Algorithm SHA256).Hash -ne $p.Sha256) {
            Stop-Setup -Step $step -Object $object -Reason 'The file differs from the one mdegen wrote for this release.' -Fix 'Copy the kit folder again from the mdegen output of this release (or render it again), then run again.'
        }
    }

    # 2. The kit's files on the source share: present and unchanged.
    $step = 'Check the source share'
    $sourceRoot = $SourcePath.TrimEnd('\')
    foreach ($p in $Packages) {
        $folder = $sourceRoot + '\packages\' + $p.Folder
        $object = 'source folder ' + $folder
        if (-not (Test-Path -LiteralPath (Get-FileSystemPath -Path $folder) -PathType Container)) {
            Stop-Setup -Step $step -Object $object -Reason 'The folder does not exist, or this account cannot read it.' -Fix ('Copy the kit''s packages folder to {0}, give the site server''s computer account read access to the share, and run again.' -f $sourceRoot)
        }
        foreach ($f in $p.Files) {
            $path = $folder + '\' + $f.Name
            $object = $path
            if (-not (Test-Path -LiteralPath (Get-FileSystemPath -Path $path) -PathType Leaf)) {
                Stop-Setup -Step $step -Object $object -Reason 'The file is missing.' -Fix ('Copy the kit''s packages folder to {0} again, then run again.' -f $sourceRoot)
            }
            if ((Get-FileHash -LiteralPath (Get-FileSystemPath -Path $path) -Algorithm SHA256).Hash -ne $f.Sha256) {
                Stop-Setup -Step $step -Object $object -Reason 'The file differs from the one mdegen wrote for this release.' -Fix ('Copy the packages folder of this release to {0} (replace the old files), then run again.' -f $sourceRoot)
            }
        }
    }

    # 3. The ConfigurationManager module: PSModulePath first (console 2111+), then SMS_ADMIN_UI_PATH.
    $step = 'Load the ConfigurationManager module'
    $object = 'module ConfigurationManager'
    $loadFix = 'Start the script in Windows PowerShell 5.1 on a computer with the Configuration Manager console, from a command prompt or a PowerShell window, not from the console''s "Connect via Windows PowerShell" (that session runs AllSigned, and this script is not signed): {0}' -f $StartCommand
    if (-not (Get-Module -Name ConfigurationManager)) {
        if (Get-Module -ListAvailable -Name ConfigurationManager) {
            try {
                Import-Module -Name ConfigurationManager
            }
            catch {
                Stop-Setup -Step $step -Object $object -Reason $_.Exception.Message -Fix $loadFix
            }
        }
        elseif ($env:SMS_ADMIN_UI_PATH) {
            try {
                Import-Module -Name ([System.IO.Path]::Combine([System.IO.Path]::GetDirectoryName($env:SMS_ADMIN_UI_PATH.TrimEnd('\')), 'ConfigurationManager.psd1'))
            }
            catch {
                Stop-Setup -Step $step -Object $object -Reason $_.Exception.Message -Fix $loadFix
            }
        }
        else {
            Stop-Setup -Step $step -Object $object -Reason 'The module is neither in PSModulePath nor found through SMS_ADMIN_UI_PATH.' -Fix ('Run the script in Windows PowerShell 5.1 on a computer with the Configuration Manager console installed: {0}' -f $StartCommand)
        }
    }

    # 4. The site: reuse its CMSite drive, or create one for -SiteServer.
    $step = 'Connect to the site'
    $object = 'site ' + $SiteCode
    $drive = Get-PSDrive -Name $SiteCode -PSProvider CMSite -ErrorAction SilentlyContinue
    if ($null -eq $drive) {
        if (-not $SiteServer) {
            Stop-Setup -Step $step -Object $object -Reason 'This session has no CMSite drive for the site, and -SiteServer was not given.' -Fix ('Give -SiteServer with the FQDN of the SMS Provider server; the script then connects to the site itself: {0}' -f $StartCommand)
        }
        try {
            $drive = New-PSDrive -Name $SiteCode -PSProvider CMSite -Root $SiteServer -WhatIf:$false -Confirm:$false
        }
        catch {
            Stop-Setup -Step $step -Object $object -Reason $_.Exception.Message -Fix 'Check -SiteCode and -SiteServer (the SMS Provider server), and that your account is a Configuration Manager administrator.'
        }
    }
    Push-Location -LiteralPath ($SiteCode + ':\')
    $pushed = $true

    $dpGroupId = ''
    if ($Packages.Count -gt 0) {
        $step = 'Find the distribution point group'
        $object = 'distribution point group ''{0}''' -f $DistributionPointGroup
        $groups = Select-Named -Items @(Get-CMDistributionPointGroup -Name $DistributionPointGroup -DisableWildcardHandling) -Property 'Name' -Name $DistributionPointGroup
        if ($groups.Count -ne 1) {
            Stop-Setup -Step $step -Object $object -Reason 'The site has no distribution point group of that name.' -Fix 'Give the name of an existing group (Administration > Distribution Point Groups) in -DistributionPointGroup.'
        }
        $dpGroupId = [string] $groups[0].GroupID
    }

    if (@($KitObjects | Where-Object { $null -ne $_.Collection }).Count -gt 0) {
        $step = 'Find the limiting collection'
        $object = 'collection ''{0}''' -f $LimitingCollection
        $limiting = Select-Named -Items @(Get-CMCollection -CollectionType Device -Name $LimitingCollection -DisableWildcardHandling) -Property 'Name' -Name $LimitingCollection
        if ($limiting.Count -ne 1) {
            Stop-Setup -Step $step -Object $object -Reason 'The site has no device collection of that name.' -Fix 'Give the name of an existing device collection in -LimitingCollection (default: All Systems).'
        }
    }

    # 5. Each package, then each Defender for Endpoint policy.
    foreach ($p in $KitObjects) {
        Write-Host ''
        $sourceFolder = $null
        $contentChanged = $false
        $pkg = $null
        if ($p.Route -eq 'package') {
            Write-Host ('Package ''{0}'' ({1})' -f $p.Name, $p.Role)
            $sourceFolder = $sourceRoot + '\packages\' + $p.Folder
        }
        else {
            Write-Host ('Defender for Endpoint policy ''{0}'' ({1})' -f $p.Name, $p.Role)
        }

        # 5a-5c. The package, its program and its content (package route).
        if ($p.Route -eq 'package') {
            # 5a. Package.
            $step = 'Create or update the package'
            $object = 'package ''{0}''' -f $p.Name
            $found = Select-Named -Items @(Get-CMPackage -Name $p.Name -Fast -DisableWildcardHandling) -Property 'Name' -Name $p.Name
            if ($found.Count -gt 1) {
                Stop-Setup -Step $step -Object $object -Reason ('{0} packages have this name ({1}).' -f $found.Count, (@($found | ForEach-Object { $_.PackageID }) -join ', ')) -Fix 'Delete or rename the extra packages so that one is left, then run again.'
            }
            if ($found.Count -eq 0) {
                if ($PSCmdlet.ShouldProcess($object, ('Create from {0}' -f $sourceFolder))) {
                    $pkg = Invoke-Checked -Fix 'Check that you may create packages and that the site server can read the source path, then run again.' -Operation {
                        New-CMPackage -Name $p.Name -Description $p.Description -Manufacturer $p.Manufacturer -Language $p.Language -Version $p.Version -Path $sourceFolder -Confirm:$false
                    }
                    Add-Result -Kind 'Package' -Name $p.Name -Outcome 'created' -Detail ('ID {0}, source {1}' -f $pkg.PackageID, $sourceFolder)
                }
                else {
                    Add-Result -Kind 'Package' -Name $p.Name -Outcome (Get-SkippedOutcome -Planned 'created') -Detail ('source ' + $sourceFolder)
                }
            }
            else {
                $pkg = $found[0]
                $differences = @()
                if (-not (Test-SameText -A ([string] $pkg.Description) -B $p.Description)) {
                    $differences += 'description'
                }
                if (-not (Test-SameText -A ([string] $pkg.Manufacturer) -B $p.Manufacturer)) {
                    $differences += 'manufacturer'
                }
                if (-not (Test-SameText -A ([string] $pkg.Language) -B $p.Language)) {
                    $differences += 'language'
                }
                if (-not (Test-SameText -A ([string] $pkg.Version) -B $p.Version)) {
                    $differences += 'version'
                }
                if (-not [string]::Equals(([string] $pkg.PkgSourcePath).TrimEnd('\'), $sourceFolder, [StringComparison]::OrdinalIgnoreCase)) {
                    $differences += 'source path'
                }
                if ($differences.Count -eq 0) {
                    Add-Result -Kind 'Package' -Name $p.Name -Outcome 'unchanged' -Detail ('ID ' + $pkg.PackageID)
                }
                elseif ($PSCmdlet.ShouldProcess($object, ('Update {0}' -f ($differences -join ', ')))) {
                    Invoke-Checked -Fix 'Check that you may edit this package, then run again.' -Operation {
                        Set-CMPackage -Id $pkg.PackageID -Description $p.Description -Manufacturer $p.Manufacturer -Language $p.Language -Version $p.Version -Path $sourceFolder -Confirm:$false
                    }
                    $contentChanged = ($differences -contains 'version') -or ($differences -contains 'source path')
                    Add-Result -Kind 'Package' -Name $p.Name -Outcome 'updated' -Detail ($differences -join ', ')
                }
                else {
                    Add-Result -Kind 'Package' -Name $p.Name -Outcome (Get-SkippedOutcome -Planned 'updated') -Detail ($differences -join ', ')
                }
            }

            # 5b. Program: New-CMProgram, then Set-CMProgram for what New-CMProgram cannot set.
            $step = 'Create or update the program'
            $object = 'program ''{0}'' of package ''{1}''' -f $p.ProgramName, $p.Name
            $label = '{0} -> {1}' -f $p.Name, $p.ProgramName
            if ($null -eq $pkg) {
                Add-Result -Kind 'Program' -Name $label -Outcome (Get-SkippedOutcome -Planned 'created')
            }
            else {
                $programs = Select-Named -Items @(Get-CMProgram -PackageId $pkg.PackageID -ProgramName $p.ProgramName -DisableWildcardHandling) -Property 'ProgramName' -Name $p.ProgramName
                if ($programs.Count -eq 0) {
                    if ($PSCmdlet.ShouldProcess($object, 'Create (hidden, whether or not a user is logged on, administrative rights, no action after running)')) {
                        Invoke-Checked -Fix 'Check that you may edit this package, then run again.' -Operation {
                            $null = New-CMProgram -PackageId $pkg.PackageID -StandardProgramName $p.ProgramName -CommandLine $p.CommandLine -RunType Hidden -ProgramRunType WhetherOrNotUserIsLoggedOn -RunMode RunWithAdministrativeRights -UserInteraction $false -Duration $p.Duration -DiskSpaceRequirement ([string] $p.DiskSpaceMB) -DiskSpaceUnit MB -DriveMode RunWithUnc -Confirm:$false
                            Set-CMProgram -PackageId $pkg.PackageID -ProgramName $p.ProgramName -StandardProgram -AfterRunningType NoActionRequired -Comment $p.ProgramComment -Confirm:$false
                        }
                        Add-Result -Kind 'Program' -Name $label -Outcome 'created' -Detail $p.CommandLine
                    }
                    else {
                        Add-Result -Kind 'Program' -Name $label -Outcome (Get-SkippedOutcome -Planned 'created') -Detail $p.CommandLine
                    }
                }
                else {
                    $differences = Get-ProgramDifferences -Program $programs[0] -Wanted $p
                    if ($differences.Count -eq 0) {
                        Add-Result -Kind 'Program' -Name $label -Outcome 'unchanged'
                    }
                    elseif ($PSCmdlet.ShouldProcess($object, ('Update {0}' -f ($differences -join ', ')))) {
                        Invoke-Checked -Fix 'Check that you may edit this package, then run again.' -Operation {
                            Set-CMProgram -PackageId $pkg.PackageID -ProgramName $p.ProgramName -StandardProgram -CommandLine $p.CommandLine -RunType Hidden -ProgramRunType WhetherOrNotUserIsLoggedOn -RunMode RunWithAdministrativeRights -UserInteraction $false -Duration $p.Duration -DiskSpaceRequirement ([string] $p.DiskSpaceMB) -DiskSpaceUnit MB -DriveMode RunWithUnc -AfterRunningType NoActionRequired -Comment $p.ProgramComment -Confirm:$false
                        }
                        Add-Result -Kind 'Program' -Name $label -Outcome 'updated' -Detail ($differences -join ', ')
                    }
                    else {
                        Add-Result -Kind 'Program' -Name $label -Outcome (Get-SkippedOutcome -Planned 'updated') -Detail ($differences -join ', ')
                    }
                }
            }

            # 5c. Content: distributed when the group does not have it (SMS_DPGroupContentInfo);
            # refreshed on the distribution points when the source path or version changed.
            $step = 'Distribute the content'
            $object = 'content of package ''{0}''' -f $p.Name
            $label = '{0} -> {1}' -f $p.Name, $DistributionPointGroup
            if ($null -eq $pkg) {
                Add-Result -Kind 'Distribution' -Name $label -Outcome (Get-SkippedOutcome -Planned 'created')
            }
            elseif (Test-InDpGroup -GroupId $dpGroupId -PackageId $pkg.PackageID) {
                if (-not $contentChanged) {
                    Add-Result -Kind 'Distribution' -Name $label -Outcome 'unchanged'
                }
                elseif ($PSCmdlet.ShouldProcess($object, 'Update the distribution points with the new source')) {
                    Invoke-Checked -Fix 'Check the package''s content status (Monitoring > Distribution Status), then run again.' -Operation {
                        Update-CMDistributionPoint -PackageId $pkg.PackageID -Confirm:$false
                    }
                    Add-Result -Kind 'Distribution' -Name $label -Outcome 'updated' -Detail 'content refreshed'
                }
                else {
                    Add-Result -Kind 'Distribution' -Name $label -Outcome (Get-SkippedOutcome -Planned 'updated') -Detail 'content refresh'
                }
            }
            elseif ($PSCmdlet.ShouldProcess($object, ('Distribute to distribution point group ''{0}''' -f $DistributionPointGroup))) {
                Invoke-Checked -Fix 'Check that you may distribute content to this group and that the site server can read the source path, then run again.' -Operation {
                    Start-CMContentDistribution -PackageId $pkg.PackageID -DistributionPointGroupName $DistributionPointGroup -Confirm:$false
                }
                Add-Result -Kind 'Distribution' -Name $label -Outcome 'created'
            }
            else {
                Add-Result -Kind 'Distribution' -Name $label -Outcome (Get-SkippedOutcome -Planned 'created')
            }

            if ($p.Role -eq 'offboarding') {
                $pkgId = '<package ID>'
                if ($null -ne $pkg) {
                    $pkgId = [string] $pkg.PackageID
                }
                $OffboardingInfo += [pscustomobject]@{ Name = $p.Name; PackageId = $pkgId; ProgramName = $p.ProgramName }
            }
        }

        # 5d. Device collection with its query rule (onboarding packages).
        $coll = $null
        if ($null -ne $p.Collection) {
            $step = 'Create or update the collection'
            $object = 'collection ''{0}''' -f $p.Collection.Name
            $found = Select-Named -Items @(Get-CMCollection -CollectionType Device -Name $p.Collection.Name -DisableWildcardHandling) -Property 'Name' -Name $p.Collection.Name
            if ($found.Count -eq 0) {
                if ($PSCmdlet.ShouldProcess($object, ('Create, limited to ''{0}'', membership refreshed daily' -f $LimitingCollection))) {
                    $coll = Invoke-Checked -Fix 'Check that you may create collections, then run again.' -Operation {
                        $refresh = New-CMSchedule -RecurInterval Days -RecurCount 1
                        New-CMDeviceCollection -Name $p.Collection.Name -Comment $p.Collection.Comment -LimitingCollectionName $LimitingCollection -RefreshType Periodic -RefreshSchedule $refresh -Confirm:$false
                    }
                    Add-Result -Kind 'Collection' -Name $p.Collection.Name -Outcome 'created' -Detail ('ID ' + $coll.CollectionID)
                }
                else {
                    Add-Result -Kind 'Collection' -Name $p.Collection.Name -Outcome (Get-SkippedOutcome -Planned 'created')
                }
            }
            else {
                $coll = $found[0]
                if (-not [string]::Equals([string] $coll.LimitToCollectionName, $LimitingCollection, [StringComparison]::OrdinalIgnoreCase)) {
                    Write-Warning ('Collection ''{0}'' is limited to ''{1}'', not ''{2}''; the script leaves the limiting collection of an existing collection as it is.' -f $p.Collection.Name, $coll.LimitToCollectionName, $LimitingCollection)
                }
                if (Test-SameText -A ([string] $coll.Comment) -B $p.Collection.Comment) {
                    Add-Result -Kind 'Collection' -Name $p.Collection.Name -Outcome 'unchanged' -Detail ('ID ' + $coll.CollectionID)
                }
                elseif ($PSCmdlet.ShouldProcess($object, 'Update comment')) {
                    Invoke-Checked -Fix 'Check that you may edit this collection, then run again.' -Operation {
                        Set-CMCollection -InputObject $coll -Comment $p.Collection.Comment -Confirm:$false
                    }
                    Add-Result -Kind 'Collection' -Name $p.Collection.Name -Outcome 'updated' -Detail 'comment'
                }
                else {
                    Add-Result -Kind 'Collection' -Name $p.Collection.Name -Outcome (Get-SkippedOutcome -Planned 'updated') -Detail 'comment'
                }
            }

            $step = 'Add the query membership rule'
            $object = 'rule ''{0}'' of collection ''{1}''' -f $p.Collection.RuleName, $p.Collection.Name
            $label = '{0} -> {1}' -f $p.Collection.Name, $p.Collection.RuleName
            if ($null -eq $coll) {
                Add-Result -Kind 'Query rule' -Name $label -Outcome (Get-SkippedOutcome -Planned 'created')
            }
            else {
                $rules = Select-Named -Items @(Get-CMDeviceCollectionQueryMembershipRule -CollectionId $coll.CollectionID -RuleName $p.Collection.RuleName) -Property 'RuleName' -Name $p.Collection.RuleName
                if ($rules.Count -eq 0) {
                    if ($PSCmdlet.ShouldProcess($object, 'Add the query rule for the target''s builds')) {
                        Invoke-Checked -Fix 'Check that you may edit this collection, then run again.' -Operation {
                            Add-CMDeviceCollectionQueryMembershipRule -CollectionId $coll.CollectionID -RuleName $p.Collection.RuleName -QueryExpression $p.Collection.Query -Confirm:$false
                        }
                        Add-Result -Kind 'Query rule' -Name $label -Outcome 'created'
                    }
                    else {
                        Add-Result -Kind 'Query rule' -Name $label -Outcome (Get-SkippedOutcome -Planned 'created')
                    }
                }
                elseif (@($rules | Where-Object { Test-SameQuery -A ([string] $_.QueryExpression) -B $p.Collection.Query }).Count -gt 0) {
                    Add-Result -Kind 'Query rule' -Name $label -Outcome 'unchanged'
                }
                else {
                    Stop-Setup -Step $step -Object $object -Reason ('The rule exists with another query: {0}' -f $rules[0].QueryExpression) -Fix ('The script does not change a membership rule. If the kit''s query should replace it, delete the rule (collection Properties > Membership Rules) and run again; the kit''s query is: {0}' -f $p.Collection.Query)
                }
            }
        }

        # 5e. Required deployment of the program (onboarding, -Deploy, not with -CreateApplication).
        if ($p.Route -eq 'package' -and $p.Role -eq 'onboarding' -and $null -ne $p.Collection) {
            $step = 'Deploy the program'
            $object = 'deployment of program ''{0}'' to collection ''{1}''' -f $p.ProgramName, $p.Collection.Name
            $label = '{0} -> {1}' -f $p.ProgramName, $p.Collection.Name
            $existing = @()
            if ($null -ne $pkg -and $null -ne $coll) {
                $existing = @(Get-CMPackageDeployment -PackageId $pkg.PackageID -ProgramName $p.ProgramName -CollectionId $coll.CollectionID -DisableWildcardHandling)
            }
            if ($existing.Count -gt 0) {
                Add-Result -Kind 'Deployment' -Name $label -Outcome 'unchanged' -Detail 'exists; left as it is'
                if ($CreateApplication -and $Deploy) {
                    Write-Warning ('The program is already deployed to ''{0}''; the Application is deployed there too. Delete one of the two deployments so that onboarding runs once.' -f $p.Collection.Name)
                }
                Write-RouteConflict -Route 'package' -Name $p.Name -Collection $coll
            }
            elseif (-not $Deploy) {
                Add-Result -Kind 'Deployment' -Name $label -Outcome 'not deployed' -Detail 'run again with -Deploy to deploy'
            }
            elseif ($CreateApplication) {
                Add-Result -Kind 'Deployment' -Name $label -Outcome 'not deployed' -Detail 'the Application is deployed instead (-CreateApplication)'
            }
            elseif ($null -ne $coll -and (Test-ApplicationDeployed -Name $p.Name -CollectionId $coll.CollectionID)) {
                Add-Result -Kind 'Deployment' -Name $label -Outcome 'not deployed' -Detail 'the Application is deployed to this collection (an earlier -CreateApplication run): the program is not deployed beside it'
            }
            elseif ($null -ne $coll -and ($conflict = Get-RouteConflict -Route 'package' -Name $p.Name -CollectionId $coll.CollectionID)) {
                Stop-Setup -Step $step -Object $object -Reason ('Also deployed to this collection: {0}.' -f $conflict) -Fix 'One way onboards a server, and nothing offboards it meanwhile: delete the deployments named (Monitoring > Deployments), or deploy to another collection, then run again.'
            }
            elseif ($null -eq $pkg -or $null -eq $coll) {
                Add-Result -Kind 'Deployment' -Name $label -Outcome (Get-SkippedOutcome -Planned 'created') -Detail 'Required, rerun if the previous attempt failed, daily'
            }
            elseif ($PSCmdlet.ShouldProcess($object, 'Deploy as Required, rerun if the previous attempt failed, daily from now')) {
                Invoke-Checked -Fix 'Check that you may deploy to this collection, then run again.' -Operation {
                    $schedule = New-CMSchedule -Start (Get-Date) -RecurInterval Days -RecurCount 1
                    $null = New-CMPackageDeployment -StandardProgram -PackageId $pkg.PackageID -ProgramName $p.ProgramName -CollectionId $coll.CollectionID -DeployPurpose Required -Schedule $schedule -RerunBehavior RerunIfFailedPreviousAttempt -FastNetworkOption DownloadContentFromDistributionPointAndRunLocally -SlowNetworkOption DownloadContentFromDistributionPointAndLocally -SoftwareInstallation $false -SystemRestart $false -Confirm:$false
                }
                Add-Result -Kind 'Deployment' -Name $label -Outcome 'created' -Detail 'Required, rerun if the previous attempt failed, daily'
            }
            else {
                Add-Result -Kind 'Deployment' -Name $label -Outcome (Get-SkippedOutcome -Planned 'created') -Detail 'Required, rerun if the previous attempt failed, daily'
            }
        }

        # 5f. Compliance: non-remediating configuration item with script settings, and a baseline.
        if ($null -ne $p.Compliance) {
            $c = $p.Compliance
            $step = 'Create or update the configuration item'
            $object = 'configuration item ''{0}''' -f $c.CiName
            $ci = $null
            $found = Select-Named -Items @(Get-CMConfigurationItem -Name $c.CiName -DisableWildcardHandling) -Property 'LocalizedDisplayName' -Name $c.CiName
            if ($found.Count -gt 1) {
                Stop-Setup -Step $step -Object $object -Reason ('{0} configuration items have this name.' -f $found.Count) -Fix 'Delete or rename the extra configuration items so that one is left, then run again.'
            }
            if ($found.Count -eq 0) {
                if ($PSCmdlet.ShouldProcess($object, 'Create (Windows OS, settings only monitored)')) {
                    $ci = Invoke-Checked -Fix 'Check that you may create configuration items, then run again.' -Operation {
                        New-CMConfigurationItem -Name $c.CiName -Description $c.Description -CreationType WindowsOS -Confirm:$false
                    }
                    Add-Result -Kind 'Config item' -Name $c.CiName -Outcome 'created'
                }
                else {
                    Add-Result -Kind 'Config item' -Name $c.CiName -Outcome (Get-SkippedOutcome -Planned 'created')
                }
            }
            else {
                $ci = $found[0]
                if (Test-SameText -A ([string] $ci.LocalizedDescription) -B $c.Description) {
                    Add-Result -Kind 'Config item' -Name $c.CiName -Outcome 'unchanged'
                }
                elseif ($PSCmdlet.ShouldProcess($object, 'Update description')) {
                    Invoke-Checked -Fix 'Check that you may edit this configuration item, then run again.' -Operation {
                        Set-CMConfigurationItem -Id $ci.CI_ID -Description $c.Description -Confirm:$false
                    }
                    Add-Result -Kind 'Config item' -Name $c.CiName -Outcome 'updated' -Detail 'description'
                }
                else {
                    Add-Result -Kind 'Config item' -Name $c.CiName -Outcome (Get-SkippedOutcome -Planned 'updated') -Detail 'description'
                }
            }

            # Each setting: the discovery script (64-bit host) must write exactly the expected text.
            # The first line of the script text carries the SHA-256 of the kit's file, so a setting
            # whose script is current is found in the item's definition (SDMPackageXML).
            $step = 'Add or update the compliance setting'
            foreach ($s in $c.Settings) {
                $object = 'setting ''{0}'' of configuration item ''{1}''' -f $s.Name, $c.CiName
                $label = '{0} -> {1}' -f $c.CiName, $s.Name
                $marker = 'mdegen discovery script SHA-256 ' + $s.Sha256
                $scriptText = '# ' + $marker + "`r`n" + $DiscoveryTexts[$s.File]
                if ($null -eq $ci) {
                    Add-Result -Kind 'Setting' -Name $label -Outcome (Get-SkippedOutcome -Planned 'created') -Detail $s.File
                    continue
                }
                $current = Get-CMConfigurationItem -Id $ci.CI_ID
                if (([string] $current.SDMPackageXML).Contains($marker)) {
                    Add-Result -Kind 'Setting' -Name $label -Outcome 'unchanged' -Detail $s.File
                    continue
                }
                $settings = @(Get-CMComplianceSetting -InputObject $current -SettingName $s.Name -ErrorAction SilentlyContinue)
                if ($settings.Count -eq 0) {
                    if ($PSCmdlet.ShouldProcess($object, ('Add script setting from {0}: PowerShell, 64-bit, output must equal the expected value, not remediated' -f $s.File))) {
                        Invoke-Checked -Fix 'Check that you may edit this configuration item, then run again.' -Operation {
                            $null = Add-CMComplianceSettingScript -InputObject $current -Name $s.Name -Description $marker -DataType String -DiscoveryScriptLanguage PowerShell -DiscoveryScriptText $scriptText -Is64Bit -ValueRule -ExpectedValue $s.Expected -ExpressionOperator IsEquals -RuleName $s.Name -NoncomplianceSeverity Warning -Confirm:$false
                        }
                        Add-Result -Kind 'Setting' -Name $label -Outcome 'created' -Detail $s.File
                    }
                    else {
                        Add-Result -Kind 'Setting' -Name $label -Outcome (Get-SkippedOutcome -Planned 'created') -Detail $s.File
                    }
                }
                elseif ($PSCmdlet.ShouldProcess($object, ('Replace the discovery script with {0}' -f $s.File))) {
                    Invoke-Checked -Fix 'Check that you may edit this configuration item, then run again.' -Operation {
                        $null = Set-CMComplianceSettingScript -InputObject $current -SettingName $s.Name -Description $marker -DiscoveryScriptLanguage PowerShell -DiscoveryScriptText $scriptText -Is64Bit $true -Confirm:$false
                    }
                    Add-Result -Kind 'Setting' -Name $label -Outcome 'updated' -Detail ('discovery script ' + $s.File)
                }
                else {
                    Add-Result -Kind 'Setting' -Name $label -Outcome (Get-SkippedOutcome -Planned 'updated') -Detail ('discovery script ' + $s.File)
                }
            }

            # mdegen's settings this release's item no longer has would keep reporting (a target that
            # moved to the policy route, or whose passive mode is no longer set): the script never
            # deletes, so it stops and names them.
            if ($null -ne $ci) {
                $current = Get-CMConfigurationItem -Id $ci.CI_ID
                foreach ($known in $SettingNames) {
                    if (@($c.Settings | Where-Object { $_.Name -eq $known }).Count -gt 0) {
                        continue
                    }
                    if (@(Get-CMComplianceSetting -InputObject $current -SettingName $known -ErrorAction SilentlyContinue).Count -gt 0) {
                        $object = 'setting ''{0}'' of configuration item ''{1}''' -f $known, $c.CiName
                        Stop-Setup -Step $step -Object $object -Reason 'The configuration item holds this setting from an earlier release; this release does not check it, and it would keep reporting.' -Fix 'Delete the setting (the configuration item''s Properties > Compliance Settings > Delete), then run again.'
                    }
                }
            }

            $step = 'Create or update the configuration baseline'
            $object = 'configuration baseline ''{0}''' -f $c.BaselineName
            $baseline = $null
            $found = Select-Named -Items @(Get-CMBaseline -Name $c.BaselineName -DisableWildcardHandling) -Property 'LocalizedDisplayName' -Name $c.BaselineName
            if ($found.Count -gt 1) {
                Stop-Setup -Step $step -Object $object -Reason ('{0} configuration baselines have this name.' -f $found.Count) -Fix 'Delete or rename the extra baselines so that one is left, then run again.'
            }
            if ($found.Count -eq 0) {
                if ($PSCmdlet.ShouldProcess($object, 'Create')) {
                    $baseline = Invoke-Checked -Fix 'Check that you may create configuration baselines, then run again.' -Operation {
                        New-CMBaseline -Name $c.BaselineName -Description $c.Description -Confirm:$false
                    }
                    Add-Result -Kind 'Baseline' -Name $c.BaselineName -Outcome 'created'
                }
                else {
                    Add-Result -Kind 'Baseline' -Name $c.BaselineName -Outcome (Get-SkippedOutcome -Planned 'created')
                }
            }
            else {
                $baseline = $found[0]
                if (Test-SameText -A ([string] $baseline.LocalizedDescription) -B $c.Description) {
                    Add-Result -Kind 'Baseline' -Name $c.BaselineName -Outcome 'unchanged'
                }
                elseif ($PSCmdlet.ShouldProcess($object, 'Update description')) {
                    Invoke-Checked -Fix 'Check that you may edit this baseline, then run again.' -Operation {
                        Set-CMBaseline -Id $baseline.CI_ID -Description $c.Description -Confirm:$false
                    }
                    Add-Result -Kind 'Baseline' -Name $c.BaselineName -Outcome 'updated' -Detail 'description'
                }
                else {
                    Add-Result -Kind 'Baseline' -Name $c.BaselineName -Outcome (Get-SkippedOutcome -Planned 'updated') -Detail 'description'
                }
            }

            # The baseline references the item by its logical name (the last part of ModelName).
            $step = 'Add the configuration item to the baseline'
            $object = 'configuration baseline ''{0}''' -f $c.BaselineName
            $label = '{0} -> {1}' -f $c.BaselineName, $c.CiName
            if ($null -eq $baseline -or $null -eq $ci) {
                Add-Result -Kind 'Baseline item' -Name $label -Outcome (Get-SkippedOutcome -Planned 'created')
            }
            else {
                $logicalName = ([string] $ci.ModelName).Split('/')[-1]
                $definition = [string] (Get-CMBaseline -Id $baseline.CI_ID).SDMPackageXML
                if ($logicalName -and $definition.Contains($logicalName)) {
                    Add-Result -Kind 'Baseline item' -Name $label -Outcome 'unchanged'
                }
                elseif ($PSCmdlet.ShouldProcess($object, ('Add configuration item ''{0}''' -f $c.CiName))) {
                    Invoke-Checked -Fix 'Check that you may edit this baseline, then run again.' -Operation {
                        Set-CMBaseline -Id $baseline.CI_ID -AddOSConfigurationItem ([string] $ci.CI_ID) -Confirm:$false
                    }
                    Add-Result -Kind 'Baseline item' -Name $label -Outcome 'created'
                }
                else {
                    Add-Result -Kind 'Baseline item' -Name $label -Outcome (Get-SkippedOutcome -Planned 'created')
                }
            }

            $step = 'Deploy the configuration baseline'
            if ($null -eq $p.Collection) {
                Add-Result -Kind 'Baseline deploy' -Name $c.BaselineName -Outcome 'not deployed' -Detail 'the kit names no collection for it: deploy it yourself'
            }
            else {
                $object = 'deployment of baseline ''{0}'' to collection ''{1}''' -f $c.BaselineName, $p.Collection.Name
                $label = '{0} -> {1}' -f $c.BaselineName, $p.Collection.Name
                $existing = @()
                if ($null -ne $baseline -and $null -ne $coll) {
                    $existing = @(Get-CMBaselineDeployment -InputObject $baseline -CollectionId $coll.CollectionID -Fast)
                }
                if ($existing.Count -gt 0) {
                    Add-Result -Kind 'Baseline deploy' -Name $label -Outcome 'unchanged' -Detail 'exists; left as it is'
                }
                elseif (-not $Deploy) {
                    Add-Result -Kind 'Baseline deploy' -Name $label -Outcome 'not deployed' -Detail 'run again with -Deploy to deploy'
                }
                elseif ($null -eq $baseline -or $null -eq $coll) {
                    Add-Result -Kind 'Baseline deploy' -Name $label -Outcome (Get-SkippedOutcome -Planned 'created') -Detail 'evaluated daily, no remediation'
                }
                elseif ($PSCmdlet.ShouldProcess($object, 'Deploy, evaluated daily, without remediation')) {
                    Invoke-Checked -Fix 'Check that you may deploy to this collection, then run again.' -Operation {
                        $evaluation = New-CMSchedule -RecurInterval Days -RecurCount 1
                        $null = New-CMBaselineDeployment -InputObject $baseline -CollectionId $coll.CollectionID -Schedule $evaluation -EnableEnforcement $false -Confirm:$false
                    }
                    Add-Result -Kind 'Baseline deploy' -Name $label -Outcome 'created' -Detail 'evaluated daily, no remediation'
                }
                else {
                    Add-Result -Kind 'Baseline deploy' -Name $label -Outcome (Get-SkippedOutcome -Planned 'created') -Detail 'evaluated daily, no remediation'
                }
            }
        }

        # 5h. Defender for Endpoint policy (policy route): made from the kit's policy file, found by
        # name; its description ends with the fingerprint of the file and settings it was made with,
        # so a second run tells a current policy from one to update.
        if ($p.Route -eq 'policy') {
            $step = 'Create or update the Defender for Endpoint policy'
            $object = 'Defender for Endpoint policy ''{0}''' -f $p.Name
            $policyFile = $policyRoot + '\' + $p.File
            $policy = $null
            $settingsText = 'no sample sharing or reporting settings (offboarding)'
            if ($null -ne $p.SampleSharing) {
                $settingsText = 'sample sharing {0}, telemetry reporting {1}' -f $p.SampleSharing, $p.Telemetry
            }
            $found = Select-Named -Items @(Get-CMAdvancedThreatProtectionPolicy -Name $p.Name) -Property 'LocalizedDisplayName' -Name $p.Name
            if ($found.Count -gt 1) {
                Stop-Setup -Step $step -Object $object -Reason ('{0} Defender for Endpoint policies have this name.' -f $found.Count) -Fix 'Delete or rename the extra policies (Assets and Compliance > Endpoint Protection > Microsoft Defender ATP Policies) so that one is left, then run again.'
            }
            if ($found.Count -eq 0) {
                if ($PSCmdlet.ShouldProcess($object, ('Create ({0}) from {1}, {2}' -f $p.Role, $policyFile, $settingsText))) {
                    $policy = Invoke-Checked -Fix 'Check that the site has an Endpoint Protection point, that your role includes Endpoint Protection Manager, and that the console machine reads the kit folder; or create the policy by hand (Assets and Compliance > Endpoint Protection > Microsoft Defender ATP Policies > Create Microsoft Defender ATP Policy) from the same file. Then run again.' -Operation {
                        if ($null -eq $p.SampleSharing) {
                            New-CMAdvancedThreatProtectionPolicy -Name $p.Name -Description $p.Description -PolicyType Offboarding -FilePath $policyFile -Confirm:$false
                        }
                        else {
                            New-CMAdvancedThreatProtectionPolicy -Name $p.Name -Description $p.Description -PolicyType Onboarding -FilePath $policyFile -SampleSharingType $p.SampleSharing -TelemetryReportingFrequencyType $p.Telemetry -Confirm:$false
                        }
                    }
                    Add-Result -Kind 'MDE policy' -Name $p.Name -Outcome 'created' -Detail $settingsText
                }
                else {
                    Add-Result -Kind 'MDE policy' -Name $p.Name -Outcome (Get-SkippedOutcome -Planned 'created') -Detail $settingsText
                }
            }
            else {
                $policy = $found[0]
                if (Test-SameText -A ([string] $policy.LocalizedDescription) -B $p.Description) {
                    Add-Result -Kind 'MDE policy' -Name $p.Name -Outcome 'unchanged' -Detail $settingsText
                }
                elseif ($PSCmdlet.ShouldProcess($object, ('Update from {0}, {1}' -f $policyFile, $settingsText))) {
                    Invoke-Checked -Fix 'Check that you may edit this policy, then run again; or edit it by hand (its Properties) with the same file and settings.' -Operation {
                        if ($null -eq $p.SampleSharing) {
                            Set-CMAdvancedThreatProtectionPolicy -InputObject $policy -Description $p.Description -FilePath $policyFile -Confirm:$false
                        }
                        else {
                            Set-CMAdvancedThreatProtectionPolicy -InputObject $policy -Description $p.Description -FilePath $policyFile -SampleSharingType $p.SampleSharing -TelemetryReportingFrequencyType $p.Telemetry -Confirm:$false
                        }
                    }
                    Add-Result -Kind 'MDE policy' -Name $p.Name -Outcome 'updated' -Detail ('file and settings: ' + $settingsText)
                }
                else {
                    Add-Result -Kind 'MDE policy' -Name $p.Name -Outcome (Get-SkippedOutcome -Planned 'updated') -Detail ('file and settings: ' + $settingsText)
                }
            }

            # Deployed to the target's collection (onboarding only; with -Deploy). Never where the
            # offboarding policy or this target's package (the other route) is deployed.
            if ($p.Role -eq 'onboarding') {
                $step = 'Deploy the Defender for Endpoint policy'
                $object = 'deployment of policy ''{0}'' to collection ''{1}''' -f $p.Name, $p.Collection.Name
                $label = '{0} -> {1}' -f $p.Name, $p.Collection.Name
                $existing = @()
                if ($null -ne $policy -and $null -ne $coll) {
                    $existing = @(Get-CMConfigurationPolicyDeployment -InputObject $policy -CollectionId $coll.CollectionID -Fast)
                }
                if ($existing.Count -gt 0) {
                    Add-Result -Kind 'Policy deploy' -Name $label -Outcome 'unchanged' -Detail 'exists; left as it is'
                    Write-RouteConflict -Route 'policy' -Name $p.Name -Collection $coll
                }
                elseif (-not $Deploy) {
                    Add-Result -Kind 'Policy deploy' -Name $label -Outcome 'not deployed' -Detail 'run again with -Deploy to deploy'
                }
                elseif ($null -ne $coll -and ($conflict = Get-RouteConflict -Route 'policy' -Name $p.Name -CollectionId $coll.CollectionID)) {
                    Stop-Setup -Step $step -Object $object -Reason ('Also deployed to this collection: {0}.' -f $conflict) -Fix 'One way onboards a server, and nothing offboards it meanwhile: delete the deployments named (Monitoring > Deployments), or deploy to another collection, then run again.'
                }
                elseif ($null -eq $policy -or $null -eq $coll) {
                    Add-Result -Kind 'Policy deploy' -Name $label -Outcome (Get-SkippedOutcome -Planned 'created')
                }
                else {
                    if ($PSCmdlet.ShouldProcess($object, 'Deploy')) {
                        Invoke-Checked -Fix 'Check that you may deploy to this collection, then run again; or deploy the policy by hand (select it > Deploy).' -Operation {
                            $null = New-CMConfigurationPolicyDeployment -CommonProfile $policy -CollectionId $coll.CollectionID -Confirm:$false
                        }
                        Add-Result -Kind 'Policy deploy' -Name $label -Outcome 'created'
                    }
                    else {
                        Add-Result -Kind 'Policy deploy' -Name $label -Outcome (Get-SkippedOutcome -Planned 'created')
                    }
                }
            }
            else {
                Add-Result -Kind 'Policy deploy' -Name $p.Name -Outcome 'not deployed' -Detail 'offboarding: deploy it by hand to a collection of only the servers to take off'
            }
        }

        # 5g. Application with a script deployment type (-CreateApplication, onboarding packages).
        if ($p.Route -eq 'package' -and $CreateApplication -and $p.Role -eq 'onboarding') {
            $step = 'Create the application'
            $object = 'application ''{0}''' -f $p.Name
            $app = $null
            $found = Select-Named -Items @(Get-CMApplication -Name $p.Name -DisableWildcardHandling) -Property 'LocalizedDisplayName' -Name $p.Name
            if ($found.Count -eq 0) {
                if ($PSCmdlet.ShouldProcess($object, 'Create')) {
                    $app = Invoke-Checked -Fix 'Check that you may create applications, then run again.' -Operation {
                        New-CMApplication -Name $p.Name -Description $p.Description -Publisher $p.Manufacturer -SoftwareVersion $p.Version -Confirm:$false
                    }
                    Add-Result -Kind 'Application' -Name $p.Name -Outcome 'created'
                }
                else {
                    Add-Result -Kind 'Application' -Name $p.Name -Outcome (Get-SkippedOutcome -Planned 'created')
                }
            }
            else {
                $app = $found[0]
                Add-Result -Kind 'Application' -Name $p.Name -Outcome 'unchanged' -Detail 'exists; its properties are left as they are'
            }

            $step = 'Add the script deployment type'
            $object = 'deployment type ''{0}'' of application ''{1}''' -f $p.ProgramName, $p.Name
            $label = '{0} -> {1}' -f $p.Name, $p.ProgramName
            if ($null -eq $app) {
                Add-Result -Kind 'Deployment type' -Name $label -Outcome (Get-SkippedOutcome -Planned 'created') -Detail ('detection: ' + $p.Detection)
            }
            else {
                $types = Select-Named -Items @(Get-CMDeploymentType -InputObject $app -DeploymentTypeName $p.ProgramName -DisableWildcardHandling) -Property 'LocalizedDisplayName' -Name $p.ProgramName
                if ($types.Count -eq 0) {
                    if ($PSCmdlet.ShouldProcess($object, ('Add script deployment type: {0} from {1}, installed for the system, hidden, detection {2}' -f $p.CommandLine, $sourceFolder, $p.Detection))) {
                        Invoke-Checked -Fix 'Check that you may edit this application and that the site server can read the source path, then run again.' -Operation {
                            # Detection = what the program ensures: onboarded and, where the package
                            # sets passive mode, its value (else an onboarded server never runs it).
                            $detection = @(New-CMDetectionClauseRegistryKeyValue -Hive LocalMachine -KeyName $OnboardingStatusKey -ValueName 'OnboardingState' -PropertyType Integer -Value -ExpectedValue 1 -ExpressionOperator IsEquals -Is64Bit)
                            if ($null -eq $p.PassiveMode) {
                                $null = Add-CMScriptDeploymentType -InputObject $app -DeploymentTypeName $p.ProgramName -ContentLocation $sourceFolder -InstallCommand $p.CommandLine -AddDetectionClause $detection -InstallationBehaviorType InstallForSystem -LogonRequirementType WhetherOrNotUserLoggedOn -UserInteractionMode Hidden -MaximumRuntimeMins $p.Duration -EstimatedRuntimeMins ([Math]::Min(5, $p.Duration)) -RebootBehavior NoAction -Confirm:$false
                            }
                            else {
                                $passiveClause = New-CMDetectionClauseRegistryKeyValue -Hive LocalMachine -KeyName $PassiveModeKey -ValueName 'ForceDefenderPassiveMode' -PropertyType Integer -Value -ExpectedValue $p.PassiveMode -ExpressionOperator IsEquals -Is64Bit
                                $detection += $passiveClause
                                $connector = @{ LogicalName = $passiveClause.Setting.LogicalName; Connector = 'And' }
                                $null = Add-CMScriptDeploymentType -InputObject $app -DeploymentTypeName $p.ProgramName -ContentLocation $sourceFolder -InstallCommand $p.CommandLine -AddDetectionClause $detection -DetectionClauseConnector @($connector) -InstallationBehaviorType InstallForSystem -LogonRequirementType WhetherOrNotUserLoggedOn -UserInteractionMode Hidden -MaximumRuntimeMins $p.Duration -EstimatedRuntimeMins ([Math]::Min(5, $p.Duration)) -RebootBehavior NoAction -Confirm:$false
                            }
                        }
                        Add-Result -Kind 'Deployment type' -Name $label -Outcome 'created' -Detail ('detection: ' + $p.Detection)
                    }
                    else {
                        Add-Result -Kind 'Deployment type' -Name $label -Outcome (Get-SkippedOutcome -Planned 'created') -Detail ('detection: ' + $p.Detection)
                    }
                }
                elseif (-not $contentChanged) {
                    Add-Result -Kind 'Deployment type' -Name $label -Outcome 'unchanged' -Detail 'exists; its detection rule is left as it is'
                }
                elseif ($PSCmdlet.ShouldProcess($object, ('Point to {0} and update the distribution points' -f $sourceFolder))) {
                    Invoke-Checked -Fix 'Check that you may edit this application, then run again.' -Operation {
                        Set-CMScriptDeploymentType -ApplicationName $p.Name -DeploymentTypeName $p.ProgramName -ContentLocation $sourceFolder -InstallCommand $p.CommandLine -Confirm:$false
                        Update-CMDistributionPoint -ApplicationName $p.Name -DeploymentTypeName $p.ProgramName -Confirm:$false
                    }
                    Add-Result -Kind 'Deployment type' -Name $label -Outcome 'updated' -Detail 'content location and content refreshed'
                }
                else {
                    Add-Result -Kind 'Deployment type' -Name $label -Outcome (Get-SkippedOutcome -Planned 'updated') -Detail 'content location and content refresh'
                }
                # Read again: the content (PackageID) exists once the deployment type does.
                $again = Select-Named -Items @(Get-CMApplication -Name $p.Name -DisableWildcardHandling) -Property 'LocalizedDisplayName' -Name $p.Name
                if ($again.Count -gt 0) {
                    $app = $again[0]
                }
            }

            $step = 'Distribute the application content'
            $object = 'content of application ''{0}''' -f $p.Name
            $label = '{0} (application) -> {1}' -f $p.Name, $DistributionPointGroup
            if ($null -eq $app -or -not [string] $app.PackageID) {
                Add-Result -Kind 'Distribution' -Name $label -Outcome (Get-SkippedOutcome -Planned 'created')
            }
            elseif (Test-InDpGroup -GroupId $dpGroupId -PackageId $app.PackageID) {
                Add-Result -Kind 'Distribution' -Name $label -Outcome 'unchanged'
            }
            elseif ($PSCmdlet.ShouldProcess($object, ('Distribute to distribution point group ''{0}''' -f $DistributionPointGroup))) {
                Invoke-Checked -Fix 'Check that you may distribute content to this group, then run again.' -Operation {
                    Start-CMContentDistribution -ApplicationName $p.Name -DistributionPointGroupName $DistributionPointGroup -Confirm:$false
                }
                Add-Result -Kind 'Distribution' -Name $label -Outcome 'created'
            }
            else {
                Add-Result -Kind 'Distribution' -Name $label -Outcome (Get-SkippedOutcome -Planned 'created')
            }

            if ($null -ne $p.Collection) {
                $step = 'Deploy the application'
                $object = 'deployment of application ''{0}'' to collection ''{1}''' -f $p.Name, $p.Collection.Name
                $label = '{0} (application) -> {1}' -f $p.Name, $p.Collection.Name
                $existing = @()
                if ($null -ne $app -and $null -ne $coll) {
                    $existing = @(Get-CMApplicationDeployment -Name $p.Name -CollectionId $coll.CollectionID -DisableWildcardHandling)
                }
                if ($existing.Count -gt 0) {
                    Add-Result -Kind 'Deployment' -Name $label -Outcome 'unchanged' -Detail 'exists; left as it is'
                    Write-RouteConflict -Route 'package' -Name $p.Name -Collection $coll
                }
                elseif (-not $Deploy) {
                    Add-Result -Kind 'Deployment' -Name $label -Outcome 'not deployed' -Detail 'run again with -Deploy to deploy'
                }
                elseif ($null -ne $coll -and ($conflict = Get-RouteConflict -Route 'package' -Name $p.Name -CollectionId $coll.CollectionID)) {
                    Stop-Setup -Step $step -Object $object -Reason ('Also deployed to this collection: {0}.' -f $conflict) -Fix 'One way onboards a server, and nothing offboards it meanwhile: delete the deployments named (Monitoring > Deployments), or deploy to another collection, then run again.'
                }
                elseif ($null -eq $app -or $null -eq $coll) {
                    Add-Result -Kind 'Deployment' -Name $label -Outcome (Get-SkippedOutcome -Planned 'created') -Detail 'Required install, hidden'
                }
                elseif ($PSCmdlet.ShouldProcess($object, 'Deploy as Required install, notifications hidden, available and due now')) {
                    Invoke-Checked -Fix 'Check that you may deploy to this collection and that the content is distributed, then run again.' -Operation {
                        $now = Get-Date
                        $null = New-CMApplicationDeployment -InputObject $app -CollectionId $coll.CollectionID -DeployAction Install -DeployPurpose Required -UserNotification HideAll -AvailableDateTime $now -DeadlineDateTime $now -Confirm:$false
                    }
                    Add-Result -Kind 'Deployment' -Name $label -Outcome 'created' -Detail 'Required install, hidden'
                }
                else {
                    Add-Result -Kind 'Deployment' -Name $label -Outcome (Get-SkippedOutcome -Planned 'created') -Detail 'Required install, hidden'
                }
            }
        }
    }
}
catch {
    $failure = $_
    Write-Host ''
    if (@($Results | Where-Object { $_.Outcome -eq 'created' -or $_.Outcome -eq 'updated' }).Count -gt 0) {
        Write-Host 'Changes made before the error:'
        $Results | Where-Object { $_.Outcome -eq 'created' -or $_.Outcome -eq 'updated' } | Format-Table -AutoSize | Out-String -Width 200 | Write-Host
    }
    else {
        Write-Host 'Nothing was changed before the error.'
    }
    if ($failure.Exception.Message.StartsWith('Step "')) {
        throw
    }
    Stop-Setup -Step $step -Object $object -Reason $failure.Exception.Message -Fix 'Fix the cause named above and run the script again; finished steps are skipped.'
}
finally {
    if ($pushed) {
        Pop-Location
    }
}

# ---------------------------------------------------------------------------------------------
# Offboarding and notes
# ---------------------------------------------------------------------------------------------
foreach ($info in $OffboardingInfo) {
    Write-Host ''
    Write-Warning ('Offboarding package ''{0}'' is never deployed by this script. Never deploy it to a collection where the onboarding program, Application or baseline is deployed: a server that gets both is onboarded and offboarded in turn.' -f $info.Name)
    Write-Host 'To offboard servers, put only those servers in a collection of their own, then run:'
    Write-Host ('  New-CMPackageDeployment -StandardProgram -PackageId {0} -ProgramName {1} -CollectionName ''<collection of the servers to offboard>'' -DeployPurpose Required -Schedule (New-CMSchedule -Start (Get-Date) -Nonrecurring)' -f $info.PackageId, (ConvertTo-PsLiteral -Text $info.ProgramName))
}
foreach ($p in $Policies) {
    if ($p.Role -eq 'offboarding') {
        Write-Host ''
        Write-Warning ('Offboarding policy ''{0}'' is never deployed by this script. Deploy it by hand (Assets and Compliance > Endpoint Protection > Microsoft Defender ATP Policies > select it > Deploy) to a collection of only the servers to take off, after their onboarding deployment no longer reaches them: a server that gets both is onboarded and offboarded in turn.' -f $p.Name)
    }
}
foreach ($p in $KitObjects) {
    foreach ($note in $p.Notes) {
        Write-Host ('Note ({0}): {1}' -f $p.Name, $note)
    }
}

# ---------------------------------------------------------------------------------------------
# Summary
# ---------------------------------------------------------------------------------------------
Write-Host ''
Write-Host 'Summary'
$Results | Format-Table -AutoSize | Out-String -Width 200 | Write-Host
$changed = @($Results | Where-Object { $_.Outcome -eq 'created' -or $_.Outcome -eq 'updated' })
$planned = @($Results | Where-Object { $_.Outcome -like 'would be *' })
$skipped = @($Results | Where-Object { $_.Outcome -eq 'skipped' })
$unchanged = @($Results | Where-Object { $_.Outcome -eq 'unchanged' })
Write-Host ('created/updated: {0}, unchanged: {1}, declined: {2}' -f $changed.Count, $unchanged.Count, $skipped.Count)
if ($WhatIfPreference) {
    if ($planned.Count -eq 0) {
        Write-Host 'Nothing to change: the site already matches the kit.'
    }
    else {
        Write-Host ('WhatIf: {0} change(s) would be made; nothing was changed.' -f $planned.Count)
    }
}
elseif ($changed.Count -eq 0 -and $skipped.Count -eq 0) {
    Write-Host 'Nothing to change: the site already matches the kit.'
}
else {
    Write-Host ('{0} change(s) made, {1} declined.' -f $changed.Count, $skipped.Count)
}
