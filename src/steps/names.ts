/**
 * The one vocabulary of the procedure: log groups, summary rows, failure messages and the README's
 * step table all use these names.
 */
export const Step = {
  SignIn: 'Sign in',
  Observe: 'Observe',
  Providers: 'Resource providers',
  Hsm: 'Managed HSM',
  Activation: 'HSM activation',
  /** The log group in which the three below run side by side. */
  KeyAccess: 'Key access',
  AdminGrant: 'Admin key access',
  Key: 'Key',
  ArmKeyManagement: 'Key management through ARM',
  CosmosPrincipal: 'Cosmos DB principal',
  CosmosGrant: 'Cosmos DB key access',
  Account: 'Cosmos DB account',
  AccountIdentity: 'Account identity',
  DefaultIdentity: 'Default identity',
  SystemIdentity: 'System-assigned identity',
  SystemGrant: 'System identity key access',
  Bootstrap: 'Bootstrap assignment',
  RotationPolicy: 'Key rotation policy',
  KeyRotation: 'Key rotation',
  AccountKey: 'Customer-managed key',
  Verify: 'Verify',
  Teardown: 'Teardown',
  AccountDeletion: 'Account deletion',
  GrantRemoval: 'Grant removal'
} as const

export type StepName = (typeof Step)[keyof typeof Step]

/** What each step observes and what it writes when something differs, in run order (README). */
export const stepGuide: { step: StepName; observes: string; writes: string }[] = [
  {
    step: Step.SignIn,
    observes: '—',
    writes:
      "exchanges a fresh GitHub ID token for access tokens (ID tokens live 5 minutes, an HSM creation takes 20-30); ARM's, the HSM's and (for the first-party identity) Graph's are asked for side by side on one ID token; the signed-in object id comes from the token's `oid` claim, not Graph `/me`"
  },
  {
    step: Step.Observe,
    observes:
      'every read that depends on nothing else, side by side: providers, HSM, key, grants, identity, account',
    writes: 'nothing; refuses before the first write when the run cannot succeed'
  },
  {
    step: Step.Providers,
    observes:
      'Microsoft.DocumentDB, Microsoft.KeyVault (+ Microsoft.ManagedIdentity with a user-assigned identity)',
    writes:
      'registers; the wait runs in the background and is joined just before the write that needs the namespace'
  },
  {
    step: Step.Hsm,
    observes: 'soft delete, purge protection, provisioning state',
    writes:
      'creates it (`create-hsm`), turns purge protection on (`enable-purge-protection`, irreversible)'
  },
  {
    step: Step.Activation,
    observes: 'activation state, a security domain download under way',
    writes:
      'activates it by downloading the security domain (`security-domain-*`) to a file readable by its owner only'
  },
  {
    step: Step.AdminGrant,
    observes: "the signed-in principal's HSM role assignments",
    writes: '"Managed HSM Crypto User" for the signed-in principal at `/keys`'
  },
  {
    step: Step.ArmKeyManagement,
    observes:
      'the HSM setting AllowKeyManagementOperationsThroughARM (with `allow-arm-key-management`)',
    writes:
      'sets it to true before the key is created, so that ARM creates the key only if it does not exist'
  },
  {
    step: Step.Key,
    observes: 'type, size, `wrapKey`/`unwrapKey`, enabled, expiry',
    writes:
      'creates an RSA-HSM key if it does not exist; never modifies, deletes or re-versions an existing key'
  },
  {
    step: Step.RotationPolicy,
    observes: "the key's rotation policy (with `key-rotate-after`)",
    writes:
      'sets the policy (Rotate only, as Managed HSM allows) and keeps it in sync; creates no version'
  },
  {
    step: Step.KeyRotation,
    observes: 'the current version (with `rotate-key`)',
    writes: 'rotates the key now; old versions are never disabled or deleted'
  },
  {
    step: Step.CosmosPrincipal,
    observes: 'Graph (or `cosmos-principal-id`), the user-assigned identity',
    writes: 'nothing'
  },
  {
    step: Step.CosmosGrant,
    observes: "the principal's HSM role assignments",
    writes: '"Managed HSM Crypto Service Encryption User" at `/keys/<key-name>` (or `/keys`)'
  },
  {
    step: Step.Account,
    observes: 'whether it exists and which key it uses',
    writes:
      'creates it with the versionless key URI, kind and capabilities for `api`, locations, and the default identity'
  },
  {
    step: Step.AccountIdentity,
    observes: "the account's user-assigned identities",
    writes: 'attaches the user-assigned identity to an existing account'
  },
  {
    step: Step.DefaultIdentity,
    observes: "the account's default identity",
    writes: 'sets it in an update of its own and reads it back'
  },
  {
    step: Step.SystemIdentity,
    observes: "the account's system-assigned identity",
    writes:
      'a new account is created with it (an existing one gets it in an update); then the default identity switches to it'
  },
  {
    step: Step.SystemGrant,
    observes: "the system-assigned principal's HSM role assignments",
    writes:
      '"Managed HSM Crypto Service Encryption User" for it, started as soon as the creation is accepted'
  },
  {
    step: Step.AccountKey,
    observes: "an existing account's key",
    writes:
      'turns customer-managed keys on for an account without them (`enable-on-existing`) or moves it to this key (`key-switch`), in an update of its own, after its identity can use the key'
  },
  {
    step: Step.Bootstrap,
    observes: 'the bootstrap grant and the accounts that still use it',
    writes:
      'removes the bootstrap grant (`remove-bootstrap-assignment`) only after the switch is verified and no other account needs it'
  }
]
