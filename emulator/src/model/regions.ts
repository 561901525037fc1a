/** Azure regions the local Azure accepts, by programmatic name, with their display names. */
const REGIONS: Record<string, string> = {
  eastus: 'East US',
  eastus2: 'East US 2',
  centralus: 'Central US',
  northcentralus: 'North Central US',
  southcentralus: 'South Central US',
  westcentralus: 'West Central US',
  westus: 'West US',
  westus2: 'West US 2',
  westus3: 'West US 3',
  canadacentral: 'Canada Central',
  canadaeast: 'Canada East',
  brazilsouth: 'Brazil South',
  mexicocentral: 'Mexico Central',
  northeurope: 'North Europe',
  westeurope: 'West Europe',
  uksouth: 'UK South',
  ukwest: 'UK West',
  francecentral: 'France Central',
  germanywestcentral: 'Germany West Central',
  switzerlandnorth: 'Switzerland North',
  norwayeast: 'Norway East',
  swedencentral: 'Sweden Central',
  polandcentral: 'Poland Central',
  italynorth: 'Italy North',
  spaincentral: 'Spain Central',
  uaenorth: 'UAE North',
  qatarcentral: 'Qatar Central',
  israelcentral: 'Israel Central',
  southafricanorth: 'South Africa North',
  centralindia: 'Central India',
  southindia: 'South India',
  eastasia: 'East Asia',
  southeastasia: 'Southeast Asia',
  japaneast: 'Japan East',
  japanwest: 'Japan West',
  koreacentral: 'Korea Central',
  australiaeast: 'Australia East',
  australiasoutheast: 'Australia Southeast',
  australiacentral: 'Australia Central'
}

interface Region {
  /** Programmatic name, e.g. `westeurope`. */
  name: string
  /** Display name, e.g. `West Europe`. */
  displayName: string
}

/** Accepts `westeurope`, `West Europe` or `WESTEUROPE`; undefined for an unknown region. */
export function findRegion(location: string | undefined): Region | undefined {
  if (typeof location !== 'string') return undefined
  const name = location.replace(/\s+/g, '').toLowerCase()
  const displayName = REGIONS[name]
  return displayName ? { name, displayName } : undefined
}

export function regionNames(): string[] {
  return Object.values(REGIONS)
}
