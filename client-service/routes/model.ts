import { HttpError } from '../http-errors.js';

/** The request's model, else the service's --model; neither is a 400 on body.model. */
export function resolveModel(requested: string | undefined, fallback: string | undefined): string {
  const model = requested ?? fallback;
  if (model === undefined || model.length === 0) {
    throw new HttpError(
      400,
      'BadRequest',
      'body.model: required (the service has no --model default)',
      'body.model',
    );
  }
  return model;
}
