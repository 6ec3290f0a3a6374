# Microsoft Defender for Endpoint: onboarding state (ConfigMgr compliance discovery script, written by mdegen).
#
# Writes exactly one line: 'Compliant' when HKLM\SOFTWARE\Microsoft\Windows Advanced Threat Protection\Status
# holds OnboardingState = 1 (REG_DWORD), the value the SENSE service writes once onboarding completed;
# otherwise one line that says what was found instead. The configuration item compares the output
# with 'Compliant'; anything else is reported as noncompliant, with this line as the actual value.
#
# The key is read in the 64-bit registry view whatever the bitness of the PowerShell host.
# Read-only: this script changes nothing.

$ErrorActionPreference = 'Stop'
$keyPath = 'SOFTWARE\Microsoft\Windows Advanced Threat Protection\Status'
$valueName = 'OnboardingState'
$result = 'Unknown'
try {
    $hklm = [Microsoft.Win32.RegistryKey]::OpenBaseKey('LocalMachine', 'Registry64')
    $key = $hklm.OpenSubKey($keyPath)
    if ($null -eq $key) {
        $result = 'Not onboarded: the key HKLM\' + $keyPath + ' does not exist'
    }
    else {
        $value = $key.GetValue($valueName)
        if ($null -eq $value) {
            $result = 'Not onboarded: ' + $valueName + ' is not set'
        }
        elseif ($key.GetValueKind($valueName) -ne [Microsoft.Win32.RegistryValueKind]::DWord) {
            $result = 'Not onboarded: ' + $valueName + ' is not a REG_DWORD'
        }
        elseif ([int] $value -eq 1) {
            $result = 'Compliant'
        }
        else {
            $result = 'Not onboarded: ' + $valueName + ' is ' + $value
        }
        $key.Close()
    }
    $hklm.Close()
}
catch {
    $result = 'Error: ' + ($_.Exception.Message -replace '[\r\n]+', ' ')
}
Write-Output $result
