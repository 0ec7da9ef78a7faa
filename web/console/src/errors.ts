// ApiError carries an API error exactly as the API words it: the body is
// {"error":{"code","message","requestId"}} (docs/openapi.yaml Error). API Gateway's own answers
// ({"message": "..."}) and bodies that are not JSON get a message built from what there is.

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly requestId: string;

  constructor(status: number, code: string, message: string, requestId = '') {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.requestId = requestId;
  }

  static from(status: number, body: unknown): ApiError {
    if (typeof body === 'object' && body !== null) {
      const e = (body as { error?: unknown }).error;
      if (typeof e === 'object' && e !== null) {
        const { code, message, requestId } = e as Record<string, unknown>;
        if (typeof message === 'string') {
          return new ApiError(status, typeof code === 'string' ? code : '', message, typeof requestId === 'string' ? requestId : '');
        }
      }
      const m = (body as { message?: unknown }).message;
      if (typeof m === 'string') return new ApiError(status, '', m);
    }
    return new ApiError(status, '', `HTTP ${status}`);
  }
}

/** errorMessage is what to show for any thrown value. */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
