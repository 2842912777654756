-- Argo CD health check for hpcbench.io/SlurmCluster (resource.customizations.health.hpcbench.io_SlurmCluster).
-- Healthy once the operator reached the login node (Ready) and, when monitoring is on, its monitoring job
-- runs (MonitoringReady). Runs on Lua 5.1 (Argo CD embeds gopher-lua); `obj` is the live object.
local hs = {}

-- Reasons (crds/conditions.ts) that mean the cluster is not usable now: a person must act, or the operator is
-- retrying something that failed. Any other False condition is a state the operator is still working through
-- (a job pending in the SLURM queue, a job started but not answering yet, ...).
local failureReasons = {
  InvalidSpec = true,
  SecretNotFound = true,
  HostKeyMismatch = true,
  AuthenticationFailed = true,
  Unreachable = true,
  SubmitFailed = true,
  JobFailed = true,
  JobTimeout = true,
  OutOfMemory = true,
  NodeFail = true,
  JobCancelled = true,
  JobLost = true,
}

local function findCondition(status, conditionType)
  if status.conditions == nil then
    return nil
  end
  for _, condition in ipairs(status.conditions) do
    if condition.type == conditionType then
      return condition
    end
  end
  return nil
end

local function describe(condition, fallback)
  if condition == nil then
    return fallback
  end
  local text = condition.reason or ""
  if condition.message ~= nil and condition.message ~= "" then
    if text ~= "" then
      text = text .. ": " .. condition.message
    else
      text = condition.message
    end
  end
  if text == "" then
    return fallback
  end
  return text
end

local status = obj.status
if status == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to connect to the cluster"
  return hs
end

local generation = obj.metadata.generation
local observed = status.observedGeneration
if generation ~= nil and (observed == nil or observed < generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. tostring(generation)
  return hs
end

local ready = findCondition(status, "Ready")
if ready == nil or ready.status ~= "True" then
  if ready ~= nil and ready.status == "False" and failureReasons[ready.reason] then
    hs.status = "Degraded"
  else
    hs.status = "Progressing"
  end
  hs.message = describe(ready, "Connecting to the login node")
  return hs
end

local monitoring = findCondition(status, "MonitoringReady")
if monitoring ~= nil and monitoring.status ~= "True" then
  if monitoring.status == "False" and failureReasons[monitoring.reason] then
    hs.status = "Degraded"
  else
    hs.status = "Progressing"
  end
  hs.message = "Monitoring: " .. describe(monitoring, "starting")
  return hs
end

hs.status = "Healthy"
hs.message = describe(ready, "Connected")
return hs
