/**
 * Checked by `npm run typecheck`, not run: the dashboard declares the answers it reads on its own
 * (dashboard/app/contract.ts, so its bundle carries no server code), and each API answer type must
 * still fit the dashboard's shape. A renamed or retyped field fails the typecheck here.
 */
import type {
  DeadlinesReport,
  ErasurePreview,
  ErasuresReport,
  FailuresReport,
  HoldsReport,
  RequestDetail,
  UpcomingReport,
  VerificationAnswer,
} from '../../dashboard/app/contract.js';
import type {
  ErasurePreview as ApiErasurePreview,
  RequestDetail as ApiRequestDetail,
  VerificationAnswer as ApiVerificationAnswer,
  DeadlinesReportAnswer,
  ErasuresReportAnswer,
  FailuresReportAnswer,
  HoldsReportAnswer,
  UpcomingReportAnswer,
} from '../../functions/api/types.js';

type Fits<Answer, Shape> = [Answer] extends [Shape] ? true : false;

export const dashboardContractFits: [
  Fits<DeadlinesReportAnswer, DeadlinesReport>,
  Fits<FailuresReportAnswer, FailuresReport>,
  Fits<HoldsReportAnswer, HoldsReport>,
  Fits<ErasuresReportAnswer, ErasuresReport>,
  Fits<ApiRequestDetail, RequestDetail>,
  Fits<ApiVerificationAnswer, VerificationAnswer>,
  Fits<ApiErasurePreview, ErasurePreview>,
  Fits<UpcomingReportAnswer, UpcomingReport>,
] = [true, true, true, true, true, true, true, true];
