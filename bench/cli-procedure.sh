#!/usr/bin/env bash
# The procedure "Configure customer-managed keys for your Azure Cosmos DB account with Azure Managed
# HSM Key Vault", run with the Azure CLI the way a pipeline runs it, on an existing, activated HSM.
# Its commands are kept as written wherever they run; every change is marked "CORRECTION n" with
# the reason (bench/bench.ts prints the list).
#
# Environment:
#   MODE                first-party | user-assigned
#   CLIENT_ID TENANT_ID SUBSCRIPTION_ID RG_NAME HSM_NAME KEY_NAME COSMOS_NAME IDENTITY_NAME
#   KV_DATA_PLANE       native | rest (rest when this machine's az cannot run the keyvault data-plane
#                       commands, see CORRECTION 6)
#   RETRY_SECONDS RETRY_MAX   the pause between attempts of a command that waits for propagation
#   ACTIONS_ID_TOKEN_REQUEST_URL ACTIONS_ID_TOKEN_REQUEST_TOKEN HTTPS_PROXY REQUESTS_CA_BUNDLE
#   AZURE_CONFIG_DIR
set -euo pipefail

: "${MODE:?}" "${CLIENT_ID:?}" "${TENANT_ID:?}" "${SUBSCRIPTION_ID:?}" "${RG_NAME:?}" "${HSM_NAME:?}"
: "${KEY_NAME:?}" "${COSMOS_NAME:?}" "${KV_DATA_PLANE:=native}" "${RETRY_SECONDS:=5}" "${RETRY_MAX:=60}"

now_ms() { date +%s%3N; }

# Prints "bench-step <name> <ms>" for the benchmark's per-step breakdown.
step() {
  local name=$1 started
  shift
  started=$(now_ms)
  "$@"
  echo "bench-step $name $(($(now_ms) - started))" >&2
}

# The procedure has no wait for role propagation. What users do: run the failing command again
# after a pause until it succeeds.
retry() {
  local attempt=1
  until "$@"; do
    if ((attempt >= RETRY_MAX)); then
      echo "bench-giving-up after $attempt attempts: ${*:1:3}" >&2
      return 1
    fi
    echo "bench-retry ${*:1:3}" >&2
    sleep "$RETRY_SECONDS"
    attempt=$((attempt + 1))
  done
}

hsm_url() { echo "https://${HSM_NAME}.managedhsm.azure.net$1"; }

# "Managed HSM Crypto User" and "Managed HSM Crypto Service Encryption User" (built-in role ids).
declare -A ROLE_ID=(
  ["Managed HSM Crypto User"]=21dbd100-6940-42c2-9190-5d6cb909625b
  ["Managed HSM Crypto Service Encryption User"]=33413926-3206-4cdd-b39a-83574fe37a17
)

role_assignment_create() { # role assignee scope
  if [[ $KV_DATA_PLANE == native ]]; then
    az keyvault role assignment create --hsm-name "$HSM_NAME" --role "$1" --assignee "$2" --scope "$3" --output none
  else
    local body
    body=$(printf '{"properties":{"roleDefinitionId":"Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/%s","principalId":"%s"}}' "${ROLE_ID[$1]}" "$2")
    az rest --method put --resource https://managedhsm.azure.net --output none --body "$body" \
      --url "$(hsm_url "$3/providers/Microsoft.Authorization/roleAssignments/$(cat /proc/sys/kernel/random/uuid)")?api-version=7.4"
  fi
}

key_create() {
  if [[ $KV_DATA_PLANE == native ]]; then
    az keyvault key create --hsm-name "$HSM_NAME" --name "$keyName" --ops wrapKey unwrapKey --kty RSA-HSM --size 3072 --output none
  else
    az rest --method post --resource https://managedhsm.azure.net --output none \
      --body '{"kty":"RSA-HSM","key_size":3072,"key_ops":["wrapKey","unwrapKey"]}' \
      --url "$(hsm_url "/keys/$keyName/create")?api-version=7.4"
  fi
}

sign_in() {
  # CORRECTION 1: the procedure assumes an interactive `az login`; a pipeline signs in as its
  # service principal with the GitHub ID token (as azure/login does), then selects the subscription.
  local idToken
  idToken=$(curl -sSf --cacert "$REQUESTS_CA_BUNDLE" -H "Authorization: Bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN" \
    "$ACTIONS_ID_TOKEN_REQUEST_URL&audience=api://AzureADTokenExchange" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["value"])')
  az login --service-principal -u "$CLIENT_ID" --tenant "$TENANT_ID" --federated-token "$idToken" --output none
  az account set --subscription "$SUBSCRIPTION_ID"
}

register_provider() {
  # CORRECTION 2: the procedure registers Microsoft.DocumentDB in the portal; a pipeline uses the
  # CLI (--wait polls every 10 s until Registered).
  az provider register --namespace Microsoft.DocumentDB --wait
}

check_hsm() {
  # CORRECTION 3: `az keyvault show $hsmName $rgName` passes positional arguments, which az rejects
  # ("unrecognized arguments"); an HSM is named with --hsm-name.
  local purge
  purge=$(az keyvault show --hsm-name "$HSM_NAME" --resource-group "$RG_NAME" --query properties.enablePurgeProtection --output tsv)
  if [[ $purge != true ]]; then
    az keyvault update-hsm --enable-purge-protection true --hsm-name "$HSM_NAME" --resource-group "$RG_NAME" --output none
  fi
}

admin_object_id() {
  # CORRECTION 4: `objectId = az ad signed-in-user show --query id -o tsv` is neither bash nor
  # PowerShell (no `$`, no command substitution), and /me answers only a user: a service principal
  # gets "/me request is only valid with delegated authentication flow". Its object id is the `oid`
  # claim of its own access token (decoded locally, never printed).
  az account get-access-token --query accessToken --output tsv |
    python3 -c 'import base64, json, sys; p = sys.stdin.read().strip().split(".")[1]; print(json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))["oid"])'
}

step sign-in sign_in
step register-provider register_provider
step check-hsm check_hsm
objectId=$(admin_object_id)

# CORRECTION 5: `$keyName = "Name of your key"` is a PowerShell assignment of a placeholder.
keyName=$KEY_NAME

# CORRECTION 6 (only when KV_DATA_PLANE=rest): Debian's azure-cli 2.45 package cannot run the
# keyvault data-plane commands: `az keyvault role assignment create` raises "NotImplementedError:
# This package doesn't support API version '7.2-preview'" and `az keyvault key create` raises
# "No module named 'azure.keyvault.v7_0'". The same requests go through `az rest` (role names are
# resolved to the built-in role ids above, assignment names are new GUIDs as the CLI makes them).
step admin-grant role_assignment_create "Managed HSM Crypto User" "$objectId" /keys

# CORRECTION 7: creating the key right after the grant is denied (403) until the assignment has
# propagated; retried.
step key-create retry key_create

# CORRECTION 8: `$keyURI = "https://{0}.managedhsm.azure.net/keys/{1}" -f $hsmName, $keyName` is
# PowerShell's format operator.
keyURI="https://${HSM_NAME}.managedhsm.azure.net/keys/${keyName}"

if [[ $MODE == first-party ]]; then
  # CORRECTION 9: `$cosmosPrincipal = az ad sp show ...` needs command substitution.
  cosmosPrincipal=$(az ad sp show --id a232010e-820c-4083-83bb-3ace5fc29d0b --query id --output tsv)
  step cosmos-grant role_assignment_create "Managed HSM Crypto Service Encryption User" "$cosmosPrincipal" /keys
  # CORRECTION 10: the account creation is refused (KeyVaultAuthenticationFailure) until the grant
  # has propagated; retried.
  step account-create retry az cosmosdb create -n "$COSMOS_NAME" -g "$RG_NAME" --key-uri "$keyURI" --output none
else
  : "${IDENTITY_NAME:?}"
  identityResourceID=$(az identity show -g "$RG_NAME" -n "$IDENTITY_NAME" --query id --output tsv)
  identityPrincipal=$(az identity show -g "$RG_NAME" -n "$IDENTITY_NAME" --query principalId --output tsv)
  # CORRECTION 11: `$defaultIdentity = "UserAssignedIdentity={0}" -f $identityResourceID` is
  # PowerShell's format operator.
  defaultIdentity="UserAssignedIdentity=${identityResourceID}"
  # CORRECTION 12: the user-assigned snippet grants the role to $cosmosPrincipal (never set on this
  # path, and the wrong principal): the identity that Cosmos DB will use is $identityPrincipal.
  step identity-grant role_assignment_create "Managed HSM Crypto Service Encryption User" "$identityPrincipal" /keys
  # CORRECTION 10 applies here too: retried until the grant has propagated.
  step account-create retry az cosmosdb create -n "$COSMOS_NAME" -g "$RG_NAME" --key-uri "$keyURI" \
    --assign-identity "$identityResourceID" --default-identity "$defaultIdentity" --output none
fi
echo "bench-done" >&2
