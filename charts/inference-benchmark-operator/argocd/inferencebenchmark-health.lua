-- Argo CD health check for hpcbench.io/InferenceBenchmark (resource.customizations.health.hpcbench.io_InferenceBenchmark).
-- Without it Argo CD calls any custom resource Healthy at once, so an app would look done while its benchmark
-- still runs. Runs on Lua 5.1 (Argo CD embeds gopher-lua); `obj` is the live object.
local hs = {}

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
  if condition ~= nil and condition.message ~= nil and condition.message ~= "" then
    if condition.reason ~= nil and condition.reason ~= "" then
      return condition.reason .. ": " .. condition.message
    end
    return condition.message
  end
  if condition ~= nil and condition.reason ~= nil and condition.reason ~= "" then
    return condition.reason
  end
  return fallback
end

local status = obj.status
if status == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to pick up the benchmark"
  return hs
end

-- A spec change starts a new run; until the operator has seen the new generation, the status (even a
-- Succeeded one) describes the old spec and must not count as the result of this sync.
local generation = obj.metadata.generation
local observed = status.observedGeneration
if generation ~= nil and (observed == nil or observed < generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. tostring(generation)
  return hs
end

local ready = findCondition(status, "Ready")
local phase = status.phase

-- spec.slo.failBenchmark: a missed SLO is a failure the app must show (the operator also ends the run
-- Failed with reason SLONotMet). Without it, SLOMet False is a finding and a Succeeded run stays Healthy.
local slo = findCondition(status, "SLOMet")
local spec = obj.spec or {}
local failOnSlo = spec.slo ~= nil and spec.slo.failBenchmark == true
if failOnSlo and slo ~= nil and slo.status == "False" then
  hs.status = "Degraded"
  hs.message = describe(slo, "SLO not met")
  return hs
end

if phase == "Succeeded" then
  hs.status = "Healthy"
  hs.message = describe(findCondition(status, "BenchmarkComplete"), "Benchmark complete")
  return hs
end

if phase == "Failed" then
  hs.status = "Degraded"
  hs.message = describe(ready, "Benchmark failed")
  return hs
end

-- A spec the operator rejects never runs; it is a failure the user must fix, whatever the phase says.
if ready ~= nil and ready.status == "False" and ready.reason == "InvalidSpec" then
  hs.status = "Degraded"
  hs.message = describe(ready, "Invalid spec")
  return hs
end

hs.status = "Progressing"
local message = phase or "Pending"
local progress = status.progress
if progress ~= nil and progress.totalRequests ~= nil and progress.totalRequests > 0 then
  message = message .. " (" .. tostring(progress.completedRequests or 0) .. "/" .. tostring(progress.totalRequests) .. " requests)"
end
if ready ~= nil and ready.message ~= nil and ready.message ~= "" then
  message = message .. ": " .. ready.message
end
hs.message = message
return hs
