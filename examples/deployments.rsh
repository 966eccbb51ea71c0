# Deployments: create one, run through it, scale it, look at it, remove it.
deployments create pixels-prod --model rshell/pixels --hardware cpu --min-instances 0 --max-instances 1 --exist-ok
run --deployment sandbox/pixels-prod prompt="served by a deployment" seed=9
deployments update sandbox/pixels-prod --max-instances 2
deployments show sandbox/pixels-prod
deployments list
deployments delete sandbox/pixels-prod
